package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// The transparency log's tables (migration 00013): log_pending, queued by
// a trigger on status_history; log_leaves and log_nodes, the tree;
// log_checkpoints.

// Advisory locks of the log: one sequencer and one checkpointer at a time
// across every hub process.
const (
	sequencerLockKey    = 0x6b6f7270755f7371 // "korpu_sq"
	checkpointerLockKey = 0x6b6f7270755f6370 // "korpu_cp"
)

var (
	_ routers.LogLedger = (*Ledger)(nil)
	_ routers.LogReader = (*Ledger)(nil)
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// treeSize is the number of leaves: leaf indexes are contiguous from 0.
func treeSize(ctx context.Context, q querier) (uint64, error) {
	var size int64
	if err := q.QueryRow(ctx, `SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves`).Scan(&size); err != nil {
		return 0, fmt.Errorf("log size: %w", err)
	}
	return uint64(size), nil //nolint:gosec // G115: max+1 of non-negative indexes
}

// tryLock takes an advisory lock for the transaction, if free.
func tryLock(ctx context.Context, tx pgx.Tx, key int64) (bool, error) {
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&got); err != nil {
		return false, fmt.Errorf("advisory lock: %w", err)
	}
	return got, nil
}

// SequenceLog implements routers.LogLedger in one transaction: lock, the
// tree's compact range, a batch of queued events with their chain hashes,
// then the new leaves and nodes and the queue's deletions in one round trip.
func (l *Ledger) SequenceLog(ctx context.Context, limit int) (int, error) {
	appended := 0
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		if ok, err := tryLock(ctx, tx, sequencerLockKey); err != nil || !ok {
			return err
		}
		size, err := treeSize(ctx, tx)
		if err != nil {
			return err
		}
		tree, err := tlog.Load(ctx, size, nodeReader(tx))
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT p.id, p.appeal_number, p.sequence, h.hash
			FROM log_pending p JOIN status_history h USING (appeal_number, sequence)
			WHERE h.hash IS NOT NULL
			ORDER BY p.id LIMIT $1`, limit)
		if err != nil {
			return fmt.Errorf("read the log's queue: %w", err)
		}
		var (
			ids, indexes, nodeIndexes []int64
			numbers                   []string
			sequences                 []int32
			levels                    []int16
			leafHashes, nodeHashes    [][]byte
		)
		for rows.Next() {
			var (
				id     int64
				number string
				seq    int32
				hash   []byte
			)
			if err := rows.Scan(&id, &number, &seq, &hash); err != nil {
				rows.Close()
				return fmt.Errorf("read the log's queue: %w", err)
			}
			index := int64(tree.Size()) //nolint:gosec // G115: a tree of 2^63 leaves is out of reach
			leaf := tlog.LeafHash(hash)
			if err := tree.Append(leaf, func(id tlog.NodeID, h []byte) {
				if id.Level > 0 {
					levels = append(levels, int16(id.Level))           //nolint:gosec // G115: levels ≤ 63
					nodeIndexes = append(nodeIndexes, int64(id.Index)) //nolint:gosec // G115: as above
					nodeHashes = append(nodeHashes, h)
				}
			}); err != nil {
				rows.Close()
				return err
			}
			ids, indexes, numbers, sequences, leafHashes = append(ids, id), append(indexes, index), append(numbers, number),
				append(sequences, seq), append(leafHashes, leaf)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read the log's queue: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var b pgx.Batch
		b.Queue(`INSERT INTO log_leaves (leaf_index, appeal_number, sequence, leaf_hash)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bytea[])`, indexes, numbers, sequences, leafHashes)
		if len(levels) > 0 {
			b.Queue(`INSERT INTO log_nodes (level, node_index, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
				levels, nodeIndexes, nodeHashes)
		}
		b.Queue(`DELETE FROM log_pending WHERE id = ANY($1)`, ids)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("append to the log: %w", err)
		}
		appended = len(ids)
		return nil
	})
	return appended, err
}

// nodeReader reads nodes through q: leaves from log_leaves, the rest from
// log_nodes.
func nodeReader(q querier) tlog.NodeReader {
	return func(ctx context.Context, ids []tlog.NodeID) ([][]byte, error) {
		var leafIdx, levels, nodeIdx []int64
		for _, id := range ids {
			if id.Level == 0 {
				leafIdx = append(leafIdx, int64(id.Index)) //nolint:gosec // G115: indexes < 2^63
			} else {
				levels, nodeIdx = append(levels, int64(id.Level)), append(nodeIdx, int64(id.Index)) //nolint:gosec // G115: as above
			}
		}
		found := make(map[tlog.NodeID][]byte, len(ids))
		read := func(sql string, args ...any) error {
			rows, err := q.Query(ctx, sql, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					level, index int64
					hash         []byte
				)
				if err := rows.Scan(&level, &index, &hash); err != nil {
					return err
				}
				found[tlog.NodeID{Level: uint(level), Index: uint64(index)}] = hash //nolint:gosec // G115: stored non-negative
			}
			return rows.Err()
		}
		if len(leafIdx) > 0 {
			if err := read(`SELECT 0::bigint, leaf_index, leaf_hash FROM log_leaves WHERE leaf_index = ANY($1)`, leafIdx); err != nil {
				return nil, fmt.Errorf("read log leaves: %w", err)
			}
		}
		if len(levels) > 0 {
			if err := read(`SELECT n.level::bigint, n.node_index, n.hash FROM log_nodes n
				JOIN unnest($1::bigint[], $2::bigint[]) AS w(level, node_index) ON n.level = w.level AND n.node_index = w.node_index`,
				levels, nodeIdx); err != nil {
				return nil, fmt.Errorf("read log nodes: %w", err)
			}
		}
		out := make([][]byte, len(ids))
		for i, id := range ids {
			h, ok := found[id]
			if !ok {
				return nil, fmt.Errorf("log node level %d index %d is missing", id.Level, id.Index)
			}
			out[i] = h
		}
		return out, nil
	}
}

// LogNodes implements routers.LogReader.
func (l *Ledger) LogNodes(ctx context.Context, ids []tlog.NodeID) ([][]byte, error) {
	return nodeReader(l.pool)(ctx, ids)
}

// Checkpoint implements routers.LogLedger.
func (l *Ledger) Checkpoint(ctx context.Context, notBefore time.Time, sign func(uint64, []byte, time.Time) (tlog.Checkpoint, error),
	message func(tlog.Checkpoint) routers.OutboxMessage) (tlog.Checkpoint, bool, error) {
	var (
		cp tlog.Checkpoint
		ok bool
	)
	now := l.now()
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		if got, err := tryLock(ctx, tx, checkpointerLockKey); err != nil || !got {
			return err
		}
		var (
			lastSize int64
			lastRoot []byte
			lastAt   time.Time
		)
		err := tx.QueryRow(ctx, `SELECT size, root, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&lastSize, &lastRoot, &lastAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			lastSize = 0
		case err != nil:
			return fmt.Errorf("latest checkpoint: %w", err)
		case lastAt.After(notBefore):
			return nil
		}
		size, err := treeSize(ctx, tx)
		if err != nil || size <= uint64(lastSize) { //nolint:gosec // G115: sizes are non-negative
			return err
		}
		tree, err := tlog.Load(ctx, size, nodeReader(tx))
		if err != nil {
			return err
		}
		// The root comes from stored nodes: sign it only if those nodes
		// still prove the last signed tree, so rewritten nodes are refused
		// rather than signed.
		if lastSize > 0 {
			if err := tlog.VerifyExtends(ctx, nodeReader(tx), uint64(lastSize), lastRoot, size, tree.Root()); err != nil { //nolint:gosec // G115: as above
				return &routers.PermanentError{Err: fmt.Errorf("%w: %w", routers.ErrLogInconsistent, err)}
			}
		}
		if cp, err = sign(size, tree.Root(), now); err != nil {
			return err
		}
		var b pgx.Batch
		b.Queue(`INSERT INTO log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)`,
			int64(cp.Size), cp.Root, string(cp.Note), now) //nolint:gosec // G115: as above
		queueOutbox(&b, []routers.OutboxMessage{message(cp)}, now)
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("keep checkpoint: %w", err)
		}
		ok = true
		return nil
	})
	if err != nil || !ok {
		return tlog.Checkpoint{}, false, err
	}
	return cp, true, nil
}

func scanCheckpoint(row pgx.Row) (tlog.Checkpoint, error) {
	var (
		cp   tlog.Checkpoint
		size int64
		note string
	)
	err := row.Scan(&size, &cp.Root, &note, &cp.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, routers.ErrNotFound
	}
	if err != nil {
		return cp, fmt.Errorf("read checkpoint: %w", err)
	}
	cp.Size, cp.Note = uint64(size), []byte(note) //nolint:gosec // G115: as above
	return cp, nil
}

const checkpointColumns = `size, root, note, created_at`

// LatestCheckpoint implements routers.LogReader.
func (l *Ledger) LatestCheckpoint(ctx context.Context) (tlog.Checkpoint, error) {
	return scanCheckpoint(l.pool.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM log_checkpoints ORDER BY size DESC LIMIT 1`))
}

// CheckpointOfSize implements routers.LogReader.
func (l *Ledger) CheckpointOfSize(ctx context.Context, size uint64) (tlog.Checkpoint, error) {
	if size > 1<<62 {
		return tlog.Checkpoint{}, routers.ErrNotFound
	}
	return scanCheckpoint(l.pool.QueryRow(ctx, `SELECT `+checkpointColumns+` FROM log_checkpoints WHERE size = $1`, int64(size)))
}

// LeafIndex implements routers.LogReader.
func (l *Ledger) LeafIndex(ctx context.Context, number string, sequence int) (uint64, error) {
	var (
		index    *int64
		inLedger bool
	)
	err := l.pool.QueryRow(ctx, `SELECT
			(SELECT leaf_index FROM log_leaves WHERE appeal_number = $1 AND sequence = $2),
			EXISTS (SELECT 1 FROM status_history WHERE appeal_number = $1 AND sequence = $2)`, number, sequence).Scan(&index, &inLedger)
	switch {
	case err != nil:
		return 0, fmt.Errorf("leaf index: %w", err)
	case index != nil:
		return uint64(*index), nil //nolint:gosec // G115: as above
	case inLedger:
		return 0, routers.ErrNotSequenced
	}
	return 0, routers.ErrNotFound
}

var _ routers.LogAuditSource = (*Ledger)(nil)

// AuditLeaves implements routers.LogAuditSource, one streaming query.
func (l *Ledger) AuditLeaves(ctx context.Context, fn func(routers.AuditLeaf) error) error {
	rows, err := l.pool.Query(ctx, `
		SELECT l.leaf_index, l.appeal_number, l.sequence, l.leaf_hash, h.hash, h.event->>'at'
		FROM log_leaves l LEFT JOIN status_history h USING (appeal_number, sequence)
		ORDER BY l.leaf_index`)
	if err != nil {
		return fmt.Errorf("read log leaves: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			leaf  routers.AuditLeaf
			index int64
			at    *string
		)
		if err := rows.Scan(&index, &leaf.AppealNumber, &leaf.Sequence, &leaf.LeafHash, &leaf.EventHash, &at); err != nil {
			return fmt.Errorf("read log leaves: %w", err)
		}
		leaf.Index = uint64(index) //nolint:gosec // G115: the column is checked non-negative
		if at != nil {
			leaf.At, _ = time.Parse(time.RFC3339, *at) // an event without a readable time leaves it unknown
		}
		if err := fn(leaf); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UnloggedEvents implements routers.LogAuditSource.
func (l *Ledger) UnloggedEvents(ctx context.Context, limit int) ([]routers.EventRef, error) {
	rows, err := l.pool.Query(ctx, `
		SELECT h.appeal_number, h.sequence FROM status_history h
		WHERE NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.appeal_number = h.appeal_number AND l.sequence = h.sequence)
		AND NOT EXISTS (SELECT 1 FROM log_pending p WHERE p.appeal_number = h.appeal_number AND p.sequence = h.sequence)
		ORDER BY h.appeal_number, h.sequence LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("unlogged events: %w", err)
	}
	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.EventRef, error) {
		var r routers.EventRef
		err := row.Scan(&r.AppealNumber, &r.Sequence)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("unlogged events: %w", err)
	}
	return refs, nil
}

// Checkpoints implements routers.LogAuditSource.
func (l *Ledger) Checkpoints(ctx context.Context) ([]tlog.Checkpoint, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+checkpointColumns+` FROM log_checkpoints ORDER BY size`)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (tlog.Checkpoint, error) { return scanCheckpoint(row) })
}
