package config

import (
	"net"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgresURL checks the ledger's URL with pgx's own parser, which reads
// libpq's multi-host form (postgres://u@h1:5432,h2:5432/db), not valid to
// net/url. Several hosts are the members of a replicated cluster, which
// pgx tries in order, taking the first that accepts. Without
// target_session_attrs=read-write (or primary) that may be a standby, where
// every write of the hub fails as a read-only transaction, retried for ever
// while nothing moves: a mistake found only at the first failover, so it is
// refused here rather than warned about in a log nobody reads. A standby's
// attributes (read-only, standby, prefer-standby) are refused even with one
// host: the hub writes.
func (ps *problems) postgresURL(path, value string) {
	if value == "" {
		ps.add(path, "required")
		return
	}
	if !strings.HasPrefix(value, "postgres://") && !strings.HasPrefix(value, "postgresql://") {
		scheme, _, _ := strings.Cut(value, "://")
		ps.add(path, "scheme must be postgres:// or postgresql://, not %q", scheme)
		return
	}
	cfg, err := pgconn.ParseConfig(value)
	if err != nil {
		ps.add(path, "not a valid URL: %v", err) // pgx masks the password in its errors
		return
	}
	// Each host appears once more per fallback of sslmode=prefer or allow.
	hosts := map[string]bool{net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))): true}
	for _, fb := range cfg.Fallbacks {
		hosts[net.JoinHostPort(fb.Host, strconv.Itoa(int(fb.Port)))] = true
	}
	attrs := sessionAttrs(cfg.ValidateConnect)
	switch attrs {
	case "read-write", "primary":
	case "any":
		if len(hosts) > 1 {
			ps.add(path, "lists %d hosts without target_session_attrs=read-write: the hub would take the first that answers, perhaps a standby where every write fails; add target_session_attrs=read-write (or primary)", len(hosts))
		}
	default:
		ps.add(path, "target_session_attrs=%s would connect the hub, which writes, to a server that may refuse writes: use read-write or primary", attrs)
	}
}

// sessionAttrs names the target_session_attrs pgx settled on, which it keeps
// only as the check it installs. Read back from pgx, not from the URL's
// text: pgx takes it from PGTARGETSESSIONATTRS when the URL has none, and
// its userinfo may hold an unescaped "?" that a split at the first "?"
// mistakes for the query.
func sessionAttrs(validate pgconn.ValidateConnectFunc) string {
	if validate == nil {
		return "any"
	}
	got := reflect.ValueOf(validate).Pointer()
	for name, f := range map[string]pgconn.ValidateConnectFunc{
		"read-write": pgconn.ValidateConnectTargetSessionAttrsReadWrite, "primary": pgconn.ValidateConnectTargetSessionAttrsPrimary,
		"read-only": pgconn.ValidateConnectTargetSessionAttrsReadOnly, "standby": pgconn.ValidateConnectTargetSessionAttrsStandby,
		"prefer-standby": pgconn.ValidateConnectTargetSessionAttrsPreferStandby,
	} {
		if reflect.ValueOf(f).Pointer() == got {
			return name
		}
	}
	return "unknown"
}
