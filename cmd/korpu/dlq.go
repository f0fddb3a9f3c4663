package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
)

const dlqUsage = `korpu dlq list    --config FILE [--state dead|replayed|dropped] [--after ID] [--limit N]
korpu dlq show    --config FILE ID
korpu dlq replay  --config FILE [--as NAME] ID
korpu dlq drop    --config FILE [--as NAME] ID
korpu dlq actions --config FILE [--before ID] [--limit N]

replay and drop are recorded in the operators' record (dlq actions) as
cli:NAME; without --as, as cli:USER (the user running korpu)`

// dlq lets an operator act on dead letters straight in the ledger; a
// replay's messages are committed to the outbox, which any running hub
// relays. Replays and drops are recorded with who ran them.
func dlq(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	if len(args) == 0 {
		return errors.New("dlq: which action?\n" + dlqUsage)
	}
	action := args[0]
	fs := flag.NewFlagSet("dlq "+action, flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file")
	state := fs.String("state", "dead", "list: dead letters in this state (empty: all)")
	after := fs.Int64("after", 0, "list: only IDs above this")
	limit := fs.Int("limit", 100, "list, actions: at most this many")
	before := fs.Int64("before", 0, "actions: only IDs below this (0: from the latest)")
	as := fs.String("as", "", "replay, drop: who acts, for the record (default cli:USER)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, logger, err := loadConfig([]string{"--config", *path}, "dlq", getenv)
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.Postgres.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	desk := routers.NewDeadLetterDesk(postgres.NewLedger(pool, time.Now), time.Now)

	if action == "list" {
		letters, err := desk.List(ctx, routers.DeadLetterState(*state), *after, *limit)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tCREATED\tKIND\tQUEUE\tAPPEAL\tATTEMPTS\tSIZE\tSTATE\tERROR")
		for _, dl := range letters {
			size := strconv.FormatInt(dl.Size, 10)
			if dl.Truncated() {
				size += " (cut)"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.80s\n", dl.ID, dl.CreatedAt.In(routers.Baku).Format("2006-01-02 15:04:05"),
				dl.Kind, dl.Queue, dl.AppealNumber, dl.Attempts, size, dl.State, dl.Error)
		}
		return w.Flush()
	}
	if action == "actions" {
		return printActions(ctx, desk, *before, *limit, stdout)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("dlq %s: one dead letter ID expected\n%s", action, dlqUsage)
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil {
		return fmt.Errorf("dlq %s: %q is not an ID", action, fs.Arg(0))
	}
	switch action {
	case "show":
		dl, err := desk.Show(ctx, id)
		if err != nil {
			return err
		}
		body := map[string]any{"encoding": "utf-8", "text": string(dl.Body)}
		if !utf8.Valid(dl.Body) {
			body = map[string]any{"encoding": "base64", "text": base64.StdEncoding.EncodeToString(dl.Body)}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"id": dl.ID, "created_at": dl.CreatedAt, "kind": dl.Kind, "queue": dl.Queue, "message_id": dl.MessageID,
			"headers": dl.Headers, "body": body, "size": dl.Size, "sha256": dl.SHA256, "truncated": dl.Truncated(), "error": dl.Error, "attempts": dl.Attempts, "appeal_number": dl.AppealNumber,
			"comment_id": dl.CommentID, "state": dl.State,
		})
	case "replay", "drop":
		by, err := cliOperator(*as, getenv)
		if err != nil {
			return fmt.Errorf("dlq %s: %w", action, err)
		}
		resolve, done := desk.Replay, "replayed"
		if action == "drop" {
			resolve, done = desk.Drop, "dropped"
		}
		if err := resolve(ctx, id, by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dead letter %d %s by %s\n", id, done, by.Name)
	default:
		return fmt.Errorf("dlq: unknown action %q\n%s", action, dlqUsage)
	}
	return nil
}

// cliOperator is who runs korpu dlq, for the record: cli: and the name
// given with --as, else the user running korpu. Whoever can read the hub's
// config reaches the ledger, so the command line acts as an operator; the
// prefix keeps it from writing a name of the access list, whose parties act
// over the API only.
func cliOperator(as string, getenv env) (routers.Operator, error) {
	by := routers.Operator{Name: "cli:" + as, Role: "operator", Channel: routers.ChannelCLI}
	if as == "" {
		name, _ := getenv("USER")
		if u, err := user.Current(); err == nil && u.Username != "" {
			name = u.Username
		}
		if name == "" {
			return by, errors.New("no user to record: say who acts with --as NAME")
		}
		by.Name = "cli:" + name
	}
	if err := by.Validate(); err != nil {
		return by, fmt.Errorf("--as: %w", err)
	}
	return by, nil
}

// printActions prints the operators' record, newest first.
func printActions(ctx context.Context, desk *routers.DeadLetterDesk, before int64, limit int, stdout io.Writer) error {
	actions, err := desk.Actions(ctx, before, limit)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tAT\tWHO\tROLE\tHOW\tACTION\tLETTER\tAPPEAL\tOUTCOME")
	for _, a := range actions {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.ID, a.At.In(routers.Baku).Format("2006-01-02 15:04:05"),
			a.Operator.Name, a.Operator.Role, a.Operator.Channel, a.Action, a.DeadLetterID, a.AppealNumber, a.Outcome)
	}
	return w.Flush()
}
