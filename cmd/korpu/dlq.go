package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
)

const dlqUsage = `korpu dlq list   --config FILE [--state dead|replayed|dropped] [--after ID] [--limit N]
korpu dlq show   --config FILE ID
korpu dlq replay --config FILE ID
korpu dlq drop   --config FILE ID`

// dlq lets an operator act on dead letters straight in the ledger; a
// replay's messages are committed to the outbox, which any running hub relays.
func dlq(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	if len(args) == 0 {
		return errors.New("dlq: which action?\n" + dlqUsage)
	}
	action := args[0]
	fs := flag.NewFlagSet("dlq "+action, flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file")
	state := fs.String("state", "dead", "list: dead letters in this state (empty: all)")
	after := fs.Int64("after", 0, "list: only IDs above this")
	limit := fs.Int("limit", 100, "list: at most this many")
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
	case "replay":
		if err := desk.Replay(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dead letter %d replayed\n", id)
	case "drop":
		if err := desk.Drop(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dead letter %d dropped\n", id)
	default:
		return fmt.Errorf("dlq: unknown action %q\n%s", action, dlqUsage)
	}
	return nil
}
