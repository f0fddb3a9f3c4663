package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// accessTable is who may call the HTTP API: the parties of the access list,
// and each REST district by its callback token, named by its code.
func accessTable(cfg *config.Config) *access.Table {
	tokens := make(map[string]access.Party, len(cfg.Access)+len(cfg.Districts))
	for _, p := range cfg.Access {
		tokens[p.Token] = access.Party{Name: p.Name, Role: p.Role}
	}
	for _, d := range cfg.Districts {
		if d.CallbackToken != "" {
			tokens[d.CallbackToken] = access.Party{Name: d.Code, Role: access.RoleDistrict}
		}
	}
	return access.NewTable(tokens)
}

// signingKeys are the portal's keys as the intake verifies them.
func signingKeys(cfg *config.Config) []routers.SigningKey {
	keys := make([]routers.SigningKey, len(cfg.Portal.SigningKeys))
	for i, k := range cfg.Portal.SigningKeys {
		keys[i] = routers.SigningKey{ID: k.ID, Key: []byte(k.Key)}
	}
	return keys
}

// live is what a reload changes while the hub runs: the portal's keys, the
// tokens of the HTTP API, and the credentials the hub presents to the
// registry and the districts. Each is swapped whole; work in flight keeps
// what it started with, and nothing stops.
type live struct {
	hub      *routers.Hub
	tokens   *access.Tokens
	registry *registry.Client
	rest     map[string]*rest.Client
	esd      map[string]*esd.Client
}

func newLive(hub *routers.Hub, tokens *access.Tokens, reg *registry.Client, districts map[string]routers.District) *live {
	l := &live{hub: hub, tokens: tokens, registry: reg, rest: map[string]*rest.Client{}, esd: map[string]*esd.Client{}}
	for code, d := range districts {
		switch c := d.(type) {
		case *rest.Client:
			l.rest[code] = c
		case *esd.Client:
			l.esd[code] = c
		}
	}
	return l
}

// apply puts cfg's secrets in use. cfg is valid, and its districts are
// those the hub started with (restartNeeded says otherwise).
func (l *live) apply(cfg *config.Config) {
	// reload checked the keys: SetSigningKeys cannot refuse them.
	_ = l.hub.SetSigningKeys(signingKeys(cfg))
	// A district added to the file has no adapter until the restart: its
	// callbacks wait for it too.
	known := *cfg
	known.Districts = nil
	for _, d := range cfg.Districts {
		if l.rest[d.Code] != nil || l.esd[d.Code] != nil {
			known.Districts = append(known.Districts, d)
		}
	}
	l.tokens.Swap(accessTable(&known))
	l.registry.SetToken(cfg.Registry.Token)
	for _, d := range cfg.Districts {
		if c, ok := l.rest[d.Code]; ok {
			c.SetToken(d.Token)
		}
		if c, ok := l.esd[d.Code]; ok {
			c.SetPassword(d.Password)
		}
	}
}

// restartNeeded names the parts of the file that differ between old and
// next beyond what a reload changes live (secrets): queues, the districts'
// table, the listener, tuning … They take effect at the next start only.
func restartNeeded(old, next *config.Config) []string {
	a, b := withoutSecrets(old), withoutSecrets(next)
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var parts []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			parts = append(parts, va.Type().Field(i).Name)
		}
	}
	return parts
}

// withSecretsOf is running with the settings a reload applies live taken
// from next: what runs after the reload. withoutSecrets clears the same.
func withSecretsOf(running, next *config.Config) *config.Config {
	c := *running
	c.Access, c.Portal.SigningKeys, c.Registry.Token = next.Access, next.Portal.SigningKeys, next.Registry.Token
	if c.HTTP.TLS != nil && next.HTTP.TLS != nil {
		c.HTTP.TLS = next.HTTP.TLS
	}
	c.Districts = slices.Clone(running.Districts)
	for i, d := range c.Districts {
		for _, n := range next.Districts {
			if n.Code == d.Code {
				c.Districts[i].Token, c.Districts[i].CallbackToken, c.Districts[i].Password = n.Token, n.CallbackToken, n.Password
			}
		}
	}
	return &c
}

// withoutSecrets is cfg with every setting a reload applies live cleared.
func withoutSecrets(cfg *config.Config) config.Config {
	c := *cfg
	c.Access = nil
	c.Portal.SigningKeys = nil
	c.Registry.Token = ""
	if c.HTTP.TLS != nil {
		// The certificate and key change live (reloadTLS); turning TLS, or
		// the callbacks' client CA, on or off does not: the callback check
		// is wired at start.
		files := tlsconf.ServerFiles{}
		if c.HTTP.TLS.ClientCAFile != "" {
			files.ClientCAFile = "set" // whether, not which: a new CA file applies live
		}
		c.HTTP.TLS = &files
	}
	c.Districts = make([]config.District, len(cfg.Districts))
	for i, d := range cfg.Districts {
		d.Token, d.CallbackToken, d.Password = "", "", ""
		c.Districts[i] = d
	}
	return c
}

// reloader re-reads the operator's file when serve gets SIGHUP (korpu
// reload sends it) and applies what can change while the hub runs.
type reloader struct {
	path    string
	getenv  env
	logger  *slog.Logger
	current *config.Config
	live    *live
	// hooks apply more of a new file (the TLS certificate) before the
	// secrets are swapped; one that fails refuses the reload, so each must
	// change nothing when it fails.
	hooks []func(*config.Config) error
}

// run reloads on every signal until ctx ends.
func (r *reloader) run(ctx context.Context, signals <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			if err := r.reload(); err != nil {
				r.logger.Error("reload refused: nothing changed", "config", r.path, "error", err)
			}
		}
	}
}

// reload reads and validates the file and, only if it is valid, applies
// it: the portal's keys, the access list's and districts' tokens, and the
// credentials the hub presents. What cannot change live is named in the
// log and waits for a restart; nothing of it is half-applied.
func (r *reloader) reload() error {
	// ${NAME} is expanded again, from the process's environment, which the
	// system fixes when serve starts.
	next, err := config.Load(r.path, r.getenv, catalogue.Default().Codes())
	if err != nil {
		return err
	}
	// What can fail is checked before anything is swapped: the keys, then
	// each hook (the TLS pair), which changes nothing when it fails; the
	// swaps of apply cannot fail after that.
	if err := routers.CheckSigningKeys(signingKeys(next)); err != nil {
		return err
	}
	for _, hook := range r.hooks {
		if err := hook(next); err != nil {
			return err
		}
	}
	r.live.apply(next)
	if parts := restartNeeded(r.current, next); len(parts) > 0 {
		r.logger.Warn("reload: these parts changed and take effect at the next start only", "parts", parts)
	}
	// The next reload compares against what runs: the secrets of next
	// and the rest as started.
	r.current = withSecretsOf(r.current, next)
	keys := make([]string, len(next.Portal.SigningKeys))
	for i, k := range next.Portal.SigningKeys {
		keys[i] = k.ID
	}
	parties := make([]string, len(next.Access))
	for i, p := range next.Access {
		parties[i] = p.Name
	}
	r.logger.Info("reloaded", "signing_keys", keys, "access", parties, "config", r.current)
	return nil
}

// writePIDFile writes this process's id to path for korpu reload, and
// returns what removes it at exit.
func writePIDFile(path string) (func(), error) {
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(path, []byte(pid+"\n"), 0o644); err != nil { //nolint:gosec // G306: a pid is no secret; korpu reload may run as another user
		return nil, fmt.Errorf("pid-file: %w", err)
	}
	return func() {
		// Only our own: another serve may have taken the file since.
		if data, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(data)) == pid { //nolint:gosec // G304: the operator's own flag
			_ = os.Remove(path)
		}
	}, nil
}

// reloadCmd is korpu reload: it checks the file, if given, then sends
// SIGHUP to the korpu serve whose pid file is named.
func reloadCmd(args []string, stdout io.Writer, getenv env) error {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	pidFile := fs.String("pid-file", "", "the pid file korpu serve --pid-file writes (required)")
	path := fs.String("config", "", "check this file first and send nothing if it is invalid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pidFile == "" {
		return errors.New("reload: --pid-file is required")
	}
	if *path != "" {
		if _, err := config.Load(*path, getenv, catalogue.Default().Codes()); err != nil {
			return fmt.Errorf("reload: nothing sent: %w", err)
		}
	}
	data, err := os.ReadFile(*pidFile)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("reload: %s does not hold a process id", *pidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload: signal korpu serve (pid %d): %w", pid, err)
	}
	fmt.Fprintf(stdout, "sent SIGHUP to korpu serve (pid %d); its log says what changed or why nothing did\n", pid)
	return nil
}
