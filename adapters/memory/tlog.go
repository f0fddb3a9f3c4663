package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// transparencyLog is the ledger's transparency log, as PostgreSQL's
// (migration 00013) behaves: committed events queue (pending), SequenceLog
// moves them into the tree in that order, checkpoints are kept. The
// ledger's mutex guards it, so there is one sequencer and one checkpointer
// by construction.
type transparencyLog struct {
	pending     []eventKey
	leaves      []eventKey          // by leaf index
	index       map[eventKey]uint64 // leaf index by event
	nodes       map[tlog.NodeID][]byte
	tree        *tlog.Tree
	checkpoints []tlog.Checkpoint // by size, ascending
}

type eventKey struct {
	number   string
	sequence int
}

var (
	_ routers.LogLedger = (*Ledger)(nil)
	_ routers.LogReader = (*Ledger)(nil)
)

// queueForLog queues a committed event for the log; l.mu is held.
func (l *Ledger) queueForLog(number string, sequence int) {
	l.log.pending = append(l.log.pending, eventKey{number, sequence})
}

// SequenceLog implements routers.LogLedger.
func (l *Ledger) SequenceLog(ctx context.Context, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sequence log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lg := &l.log
	if lg.tree == nil {
		lg.tree, lg.index, lg.nodes = tlog.Empty(), map[eventKey]uint64{}, map[tlog.NodeID][]byte{}
	}
	n := min(max(limit, 0), len(lg.pending))
	for _, k := range lg.pending[:n] {
		leaf := tlog.LeafHash(l.hashes[k.number][k.sequence])
		lg.index[k] = lg.tree.Size()
		if err := lg.tree.Append(leaf, func(id tlog.NodeID, h []byte) { lg.nodes[id] = h }); err != nil {
			return 0, err // unreachable: the range begins at 0
		}
		lg.leaves = append(lg.leaves, k)
	}
	lg.pending = lg.pending[n:]
	return n, nil
}

// Checkpoint implements routers.LogLedger.
func (l *Ledger) Checkpoint(ctx context.Context, notBefore time.Time, sign func(uint64, []byte, time.Time) (tlog.Checkpoint, error),
	message func(tlog.Checkpoint) routers.OutboxMessage) (tlog.Checkpoint, bool, error) {
	if err := ctx.Err(); err != nil {
		return tlog.Checkpoint{}, false, fmt.Errorf("checkpoint: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lg := &l.log
	var lastSize uint64
	if n := len(lg.checkpoints); n > 0 {
		last := lg.checkpoints[n-1]
		if last.At.After(notBefore) {
			return tlog.Checkpoint{}, false, nil
		}
		lastSize = last.Size
	}
	if lg.tree == nil || lg.tree.Size() <= lastSize {
		return tlog.Checkpoint{}, false, nil
	}
	cp, err := sign(lg.tree.Size(), lg.tree.Root(), l.now())
	if err != nil {
		return tlog.Checkpoint{}, false, err
	}
	lg.checkpoints = append(lg.checkpoints, cloneCheckpoint(cp))
	l.commit(routers.Effects{Messages: []routers.OutboxMessage{message(cloneCheckpoint(cp))}}, nil)
	return cp, true, nil
}

func cloneCheckpoint(cp tlog.Checkpoint) tlog.Checkpoint {
	cp.Root, cp.Note = append([]byte(nil), cp.Root...), append([]byte(nil), cp.Note...)
	return cp
}

// LatestCheckpoint implements routers.LogReader.
func (l *Ledger) LatestCheckpoint(_ context.Context) (tlog.Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.log.checkpoints); n > 0 {
		return cloneCheckpoint(l.log.checkpoints[n-1]), nil
	}
	return tlog.Checkpoint{}, routers.ErrNotFound
}

// CheckpointOfSize implements routers.LogReader.
func (l *Ledger) CheckpointOfSize(_ context.Context, size uint64) (tlog.Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, cp := range l.log.checkpoints {
		if cp.Size == size {
			return cloneCheckpoint(cp), nil
		}
	}
	return tlog.Checkpoint{}, routers.ErrNotFound
}

// LeafIndex implements routers.LogReader.
func (l *Ledger) LeafIndex(_ context.Context, number string, sequence int) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.log.index[eventKey{number, sequence}]; ok {
		return i, nil
	}
	if _, ok := l.history[number][sequence]; ok {
		return 0, routers.ErrNotSequenced
	}
	return 0, routers.ErrNotFound
}

// LogNodes implements routers.LogReader.
func (l *Ledger) LogNodes(_ context.Context, ids []tlog.NodeID) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := l.log.nodes[id]
		if !ok {
			return nil, fmt.Errorf("log node level %d index %d is missing", id.Level, id.Index)
		}
		out[i] = append([]byte(nil), h...)
	}
	return out, nil
}
