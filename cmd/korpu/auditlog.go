package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// The transparency log's part of `korpu audit`: `audit key` and the log's
// check in `audit verify`.

const auditKeyUsage = `korpu audit key --new ORIGIN      make a checkpoint key: prints the signer key (for audit.checkpoint_key) and its verifier key
korpu audit key --config FILE     print the verifier key of the file's audit.checkpoint_key`

// checkpointFiles is --checkpoint, repeatable: copies of checkpoints a
// monitor kept, each a signed note in a file.
type checkpointFiles []string

func (f *checkpointFiles) String() string     { return strings.Join(*f, ",") }
func (f *checkpointFiles) Set(v string) error { *f = append(*f, v); return nil }

// logAuditFlags are verify's flags for the log.
type logAuditFlags struct {
	verifierKey *string
	copies      checkpointFiles
}

func addLogAuditFlags(fs *flag.FlagSet) *logAuditFlags {
	f := &logAuditFlags{verifierKey: fs.String("verifier-key", "", "the log's verifier key (default: derived from the file's audit.checkpoint_key)")}
	fs.Var(&f.copies, "checkpoint", "a copy of a checkpoint (signed note) a monitor kept, to verify against the log; repeatable")
	return f
}

// logAuditInput is what the log's check needs beyond the ledger.
type logAuditInput struct {
	verifier *tlog.Verifier // nil: no key known, only an unsigned log can pass
	copies   map[string][]byte
	interval time.Duration    // hub.checkpoint_interval: how often the hubs sign
	now      func() time.Time // the auditor's clock
}

// readLogAuditInput reads the verifier key (the flag, else the file's
// signer key) and the copies.
func readLogAuditInput(f *logAuditFlags, cfg *config.Config) (logAuditInput, error) {
	var in logAuditInput
	switch {
	case *f.verifierKey != "":
		v, err := tlog.NewVerifier(*f.verifierKey)
		if err != nil {
			return in, fmt.Errorf("--verifier-key: %w", err)
		}
		in.verifier = v
	case cfg.Audit.CheckpointKey != "":
		s, err := tlog.NewSigner(cfg.Audit.CheckpointKey)
		if err != nil {
			return in, fmt.Errorf("audit.checkpoint_key: %w", err)
		}
		in.verifier = s.Verifier()
	}
	in.interval, in.now = cfg.Hub.CheckpointInterval, time.Now
	in.copies = map[string][]byte{}
	for _, path := range f.copies {
		note, err := readBounded(path, tlog.MaxNote)
		if err != nil {
			return in, fmt.Errorf("--checkpoint: %w", err)
		}
		in.copies[filepath.Base(path)] = note
	}
	return in, nil
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	file, err := os.Open(path) //nolint:gosec // G304: the operator names the file
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: longer than %d bytes, no checkpoint", path, limit)
	}
	return data, nil
}

// checkLog recomputes the transparency log and checks it against the
// history and every checkpoint (routers.AuditLog).
func checkLog(ctx context.Context, env auditEnv, report func(string)) (string, error) {
	r, err := routers.AuditLog(ctx, env.ledger, env.log.verifier, env.log.copies,
		routers.LogClock{Now: env.log.now(), Interval: env.log.interval})
	if err != nil {
		return "", err
	}
	if r.FirstBadLeaf >= 0 {
		where := ""
		if r.FirstBadRef.AppealNumber != "" {
			where = fmt.Sprintf(" (appeal %s sequence %d)", r.FirstBadRef.AppealNumber, r.FirstBadRef.Sequence)
		}
		report(fmt.Sprintf("first bad leaf %d%s", r.FirstBadLeaf, where))
	}
	for _, p := range r.Problems {
		report(p)
	}
	return fmt.Sprintf("%d leaves, %d checkpoints, %d copies", r.Leaves, r.Checkpoints, r.Copies), nil
}

// auditKey makes a checkpoint key or prints the verifier key of one.
func auditKey(args []string, stdout io.Writer, getenv env) error {
	fs := flag.NewFlagSet("audit key", flag.ContinueOnError)
	origin := fs.String("new", "", "make a new key for the log named ORIGIN (e.g. korpu.example.az/log)")
	path := fs.String("config", "", "the hub's config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *origin != "":
		skey, vkey, err := tlog.GenerateKey(*origin)
		if err != nil {
			return fmt.Errorf("audit key: %w", err)
		}
		fmt.Fprintf(stdout, "signer key (secret, for audit.checkpoint_key): %s\nverifier key (public, for monitors): %s\n", skey, vkey)
		return nil
	case *path != "":
		cfg, _, err := loadConfig([]string{"--config", *path}, "audit", getenv)
		if err != nil {
			return err
		}
		if cfg.Audit.CheckpointKey == "" {
			return errors.New("audit key: the file sets no audit.checkpoint_key")
		}
		s, err := tlog.NewSigner(cfg.Audit.CheckpointKey)
		if err != nil {
			return fmt.Errorf("audit.checkpoint_key: %w", err)
		}
		fmt.Fprintln(stdout, s.VerifierKey())
		return nil
	}
	return errors.New("audit key: --new ORIGIN or --config FILE\n" + auditKeyUsage)
}
