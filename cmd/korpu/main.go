// Command korpu is the Körpü integration hub: it carries citizens' appeals
// from the e-gov portal to the local executive authorities and every status
// back. Subcommands: serve, reload, migrate, demo, sim, dlq, audit, probe, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `korpu: the integration hub between the e-gov portal and local executive authorities.

Usage:
  korpu serve   --config FILE   run the hub against RabbitMQ and PostgreSQL
  korpu serve   --config FILE --pid-file FILE
                                … and write its pid for korpu reload
  korpu reload  --pid-file FILE [--config FILE]
                                apply a changed file to a running serve (SIGHUP) without
                                downtime: keys, tokens, credentials; --config checks it first
  korpu migrate --config FILE   apply the ledger's database migrations and exit
  korpu demo    [--listen ADDR] [--rate N] [--duration D]
                                the whole flow in one process, no external services
  korpu sim registry|rest-district|esd|portal [flags]
                                run a simulator of an outside party
  korpu dlq list|show|replay|drop --config FILE [ID]
                                act on dead letters (what the hub gave up on)
  korpu queues list|migrate --config FILE
                                the broker's queues of the hub: kind, depth; migrate classic
                                ones to quorum with their messages (hubs stopped)
  korpu audit verify --config FILE [--checkpoint FILE]...
                                re-walk the record's hash chains and its transparency log, verify
                                the checkpoints (and monitors' copies); non-zero on any mismatch
  korpu audit key --new ORIGIN | --config FILE
                                make a checkpoint key, or print a key's verifier key
  korpu bench   [--requests N] [--rate R --duration D] [--backlog] [--hubs H] [--districts D] [--json]
                                measure real hub processes against RabbitMQ and PostgreSQL
  korpu probe [--any] [--ca FILE] URL
                                health check: GET URL, succeed on 200 (--ca: an https:// server's CA)
  korpu version                 print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.LookupEnv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "korpu:", err)
		}
		os.Exit(1)
	}
}

// env reads the process environment; tests pass their own.
type env func(string) (string, bool)

func run(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("no subcommand given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv)
	case "reload":
		return reloadCmd(rest, stdout, getenv)
	case "migrate":
		return migrate(ctx, rest, getenv)
	case "demo":
		return demo(ctx, rest, stdout)
	case "sim":
		return sim(ctx, rest, getenv)
	case "dlq":
		return dlq(ctx, rest, stdout, getenv)
	case "queues":
		return queuesCmd(ctx, rest, stdout, getenv)
	case "audit":
		return auditCmd(ctx, rest, stdout, getenv)
	case "bench":
		return benchCmd(ctx, rest, stdout, getenv)
	case "probe":
		return probe(ctx, rest)
	case "version":
		fmt.Fprintln(stdout, "korpu", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return "dev+" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	return version
}

// newLogger builds the JSON logger every subcommand uses; KORPU_LOG_LEVEL
// (debug, info, warn, error) sets its level.
func newLogger(getenv env) (*slog.Logger, error) {
	level := slog.LevelInfo
	if v, ok := getenv("KORPU_LOG_LEVEL"); ok && v != "" {
		if err := level.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			return nil, fmt.Errorf("KORPU_LOG_LEVEL: %w", err)
		}
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}
