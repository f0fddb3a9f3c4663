package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/korpu-az/korpu/routers"
)

// Chain returns the links of an appeal's history chain in sequence order
// (status_history's key); none for an unknown appeal.
func (l *Ledger) Chain(ctx context.Context, number string) ([]routers.ChainLink, error) {
	if !holdable(number) {
		return nil, nil
	}
	rows, err := l.pool.Query(ctx, `SELECT sequence, hash FROM status_history WHERE appeal_number = $1 ORDER BY sequence`, number)
	if err != nil {
		return nil, fmt.Errorf("chain of %s: %w", number, err)
	}
	links, err := pgx.CollectRows(rows, pgx.RowToStructByPos[routers.ChainLink])
	if err != nil {
		return nil, fmt.Errorf("chain of %s: %w", number, err)
	}
	return links, nil
}

// walkHistory reads every appeal with its history rows, in (appeal,
// sequence) order off both keys: one statement in one read-only snapshot,
// streamed row by row, so a write going on does not show as a break and
// memory stays bounded. An appeal without history rows comes as one row of
// sequence 0. Each row carries the appeal's status and milestones
// (routers.AppealRow) for the verifier to check against the history.
const walkHistory = `
	SELECT a.number, coalesce(h.sequence, 0), h.event, h.hash, a.sequence, a.status, ` + milestoneColumns + `,
		a.forwarded_by, a.forwarded_at, a.forwarded_late
	FROM appeals a LEFT JOIN status_history h ON h.appeal_number = a.number
	ORDER BY a.number, h.sequence`

// WalkHistory hands every stored history event to fn, as walkHistory
// reads them, for `korpu audit verify`.
func (l *Ledger) WalkHistory(ctx context.Context, fn func(routers.StoredEvent) error) error {
	return pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, walkHistory)
		if err != nil {
			return fmt.Errorf("walk history: %w", err)
		}
		defer rows.Close()
		var (
			e         routers.StoredEvent
			ms        milestoneScan
			forwarded *time.Time
		)
		dest := append([]any{&e.Number, &e.Sequence, &e.Event, &e.Hash, &e.Latest, &e.Row.Status}, ms.dest()...)
		dest = append(dest, &e.Row.ForwardedBy, &forwarded, &e.Row.ForwardedLate)
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return fmt.Errorf("walk history: %w", err)
			}
			e.Row.Milestones, e.Row.DaysUnknown = ms.milestones(), ms.days == nil
			e.Row.ForwardedAt = time.Time{}
			setTimes(forwarded, &e.Row.ForwardedAt)
			if err := fn(e); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("walk history: %w", err)
		}
		return nil
	})
}

// sealPage is how many unsealed rows one transaction of sealHistory seals.
const sealPage = 1000

// unsealed reads a page of the rows 00012 left without a hash, after a
// position, with the hash of the row before each (status_history_unsealed
// and the key).
const unsealed = `
	SELECT h.appeal_number, h.sequence, h.event, p.hash
	FROM status_history h
	LEFT JOIN status_history p ON p.appeal_number = h.appeal_number AND p.sequence = h.sequence - 1
	WHERE h.hash IS NULL AND (h.appeal_number, h.sequence) > ($1, $2)
	ORDER BY h.appeal_number, h.sequence
	LIMIT $3`

// sealHistory chains the history rows written before migration 00012, in
// sequence order, with the hash the hub would have written (routers.ChainHash
// over the event as jsonb returns it, which canonicalizes to the same bytes
// as the event the hub marshalled). It runs after every migration and
// finds nothing to do once done. A row whose predecessor is missing or
// cannot be sealed stays unsealed, for `korpu audit verify` to name.
func sealHistory(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	var (
		after           string
		afterSeq        int
		sealed, skipped int
	)
	for {
		var page []routers.StoredEvent
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, unsealed, after, afterSeq, sealPage)
			if err != nil {
				return fmt.Errorf("read unsealed history: %w", err)
			}
			page, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.StoredEvent, error) {
				var e routers.StoredEvent // Hash: the predecessor's
				err := row.Scan(&e.Number, &e.Sequence, &e.Event, &e.Hash)
				return e, err
			})
			if err != nil {
				return fmt.Errorf("read unsealed history: %w", err)
			}
			var b pgx.Batch
			done := map[string]routers.ChainLink{} // the last row sealed in this page, by appeal
			for _, e := range page {
				prev := e.Hash // the predecessor's, as read
				switch last, ok := done[e.Number]; {
				case e.Sequence == 1:
					prev = routers.ChainGenesis
				case ok && last.Sequence == e.Sequence-1:
					prev = last.Hash
				}
				canonical, err := routers.CanonicalJSON(e.Event)
				if prev == nil || err != nil {
					skipped++
					logger.Warn("history row left unsealed", "appeal", e.Number, "sequence", e.Sequence, "error", err)
					continue
				}
				hash := routers.ChainHash(e.Number, e.Sequence, prev, canonical)
				done[e.Number] = routers.ChainLink{Sequence: e.Sequence, Hash: hash}
				b.Queue(`UPDATE status_history SET hash = $3 WHERE appeal_number = $1 AND sequence = $2 AND hash IS NULL`,
					e.Number, e.Sequence, hash)
				sealed++
			}
			if b.Len() == 0 {
				return nil
			}
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return fmt.Errorf("seal history: %w", err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if len(page) < sealPage {
			break
		}
		after, afterSeq = page[len(page)-1].Number, page[len(page)-1].Sequence
	}
	if sealed+skipped > 0 {
		logger.Info("history sealed into chains", "rows", sealed, "left_unsealed", skipped)
	}
	return nil
}
