package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

const auditUsage = `korpu audit verify --config FILE [--checkpoint FILE]... [--verifier-key KEY]
` + auditKeyUsage

// maxBreaksShown bounds what one check prints of a badly broken ledger;
// every break is still counted.
const maxBreaksShown = 1000

// auditEnv is what the checks read; a check that needs more (a key of
// the operator's file) finds it here.
type auditEnv struct {
	ledger   *postgres.Ledger
	calendar *calendar.Calendar // the hub's, to count answers' days again
	log      logAuditInput      // the transparency log's key and checkpoint copies (auditlog.go)
}

// auditCheck is one check of `korpu audit verify`. run reports each break
// it finds through report and returns a one-line summary of what it
// walked; an error means it could not check at all.
type auditCheck struct {
	name string
	run  func(ctx context.Context, env auditEnv, report func(string)) (string, error)
}

// auditChecks are verify's checks, in the order they run.
var auditChecks = []auditCheck{
	{"history chains", checkChains},
	{"transparency log", checkLog},
}

// auditCmd checks the record for changes made behind the hub's back; verify
// exits non-zero when anything does not match.
func auditCmd(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	if len(args) > 0 && args[0] == "key" {
		return auditKey(args[1:], stdout, getenv)
	}
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("audit: which action?\n" + auditUsage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file")
	logFlags := addLogAuditFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, _, err := loadConfig([]string{"--config", *path}, "audit", getenv)
	if err != nil {
		return err
	}
	logInput, err := readLogAuditInput(logFlags, cfg)
	if err != nil {
		return err
	}
	cal, err := loadCalendar(cfg)
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.Postgres.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	// No migration: verifying reads, and changes nothing (not even sealing).
	return verify(ctx, auditEnv{ledger: postgres.NewLedger(pool, nil), calendar: cal, log: logInput}, auditChecks, stdout)
}

// verify runs checks and prints each break and a summary per check.
func verify(ctx context.Context, env auditEnv, checks []auditCheck, stdout io.Writer) error {
	total := 0
	for _, c := range checks {
		breaks := 0
		summary, err := c.run(ctx, env, func(b string) {
			breaks++
			if breaks <= maxBreaksShown {
				fmt.Fprintf(stdout, "MISMATCH %s: %s\n", c.name, b)
			}
		})
		if err != nil {
			return fmt.Errorf("audit verify: %s: %w", c.name, err)
		}
		if breaks > maxBreaksShown {
			fmt.Fprintf(stdout, "MISMATCH %s: … %d more not shown\n", c.name, breaks-maxBreaksShown)
		}
		fmt.Fprintf(stdout, "%s: %s, %d mismatches\n", c.name, summary, breaks)
		total += breaks
	}
	if total > 0 {
		return fmt.Errorf("audit verify: %d mismatches: the record was changed outside the hub", total)
	}
	fmt.Fprintln(stdout, "verified: the record matches")
	return nil
}

// checkChains re-walks every appeal's history chain and checks the
// appeal's row against it (routers.ChainVerifier).
func checkChains(ctx context.Context, env auditEnv, report func(string)) (string, error) {
	v := routers.ChainVerifier{Calendar: env.calendar}
	err := env.ledger.WalkHistory(ctx, func(e routers.StoredEvent) error {
		for _, b := range v.Add(e) {
			report(b.String())
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, b := range v.Close() {
		report(b.String())
	}
	return fmt.Sprintf("%d appeals, %d events", v.Appeals, v.Events), nil
}
