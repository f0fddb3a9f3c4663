package routers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/korpu-az/korpu/routers/tlog"
)

// The transparency log (issue 11): every history event's chain hash is a
// leaf of one append-only Merkle tree (routers/tlog). The write path only
// queues the event (with the row, in the same commit); a sequencer moves
// queued events into the tree about every second, and a checkpointer signs
// the tree about every minute, keeps the checkpoint and publishes it to
// the checkpoints queue for the monitors.

// ErrNotSequenced: the event is in the history but not yet in the log (the
// sequencer takes it within about a second), or in the log but past the
// latest checkpoint.
var ErrNotSequenced = errors.New("not yet in the log")

// ErrLogInconsistent: the stored tree no longer proves the latest
// checkpoint (its nodes were rewritten); the ledger refuses to sign it.
var ErrLogInconsistent = errors.New("the stored log does not extend its latest checkpoint")

// LogLedger is what the sequencer and the checkpointer need of the ledger.
type LogLedger interface {
	// SequenceLog appends up to limit queued history events to the log, in
	// the order they were queued, and returns how many. One sequencer at a
	// time across every hub process does it; the others return 0. An event
	// whose chain hash is not yet written waits.
	SequenceLog(ctx context.Context, limit int) (int, error)
	// Checkpoint signs the tree with sign and commits the checkpoint, and
	// the message message makes of it, in one transaction, unless the
	// latest checkpoint was made after notBefore or the tree has not grown
	// since it (ok false). However many hubs try at once, one signs.
	Checkpoint(ctx context.Context, notBefore time.Time, sign func(size uint64, root []byte, at time.Time) (tlog.Checkpoint, error),
		message func(tlog.Checkpoint) OutboxMessage) (cp tlog.Checkpoint, ok bool, err error)
}

// LogReader is what the log's readers need: the API's proofs, the audit.
type LogReader interface {
	// LatestCheckpoint is the checkpoint of the largest tree, ErrNotFound
	// before the first.
	LatestCheckpoint(ctx context.Context) (tlog.Checkpoint, error)
	// CheckpointOfSize is the checkpoint of that tree size, or ErrNotFound.
	CheckpointOfSize(ctx context.Context, size uint64) (tlog.Checkpoint, error)
	// LeafIndex is the event's place in the log: ErrNotFound for no such
	// event, ErrNotSequenced for one still queued.
	LeafIndex(ctx context.Context, number string, sequence int) (uint64, error)
	// LogNodes reads stored nodes of the tree (see tlog.NodeReader).
	LogNodes(ctx context.Context, ids []tlog.NodeID) ([][]byte, error)
}

// logBatch is how many events one sequencing round appends at most.
const logBatch = 1000

// CheckpointMessage is the message that publishes cp on topic: the signed
// note as text, its id derived from the origin and size so a repeat after a
// crash has the same.
func CheckpointMessage(topic, origin string, cp tlog.Checkpoint) OutboxMessage {
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(origin+"/checkpoint/"+strconv.FormatUint(cp.Size, 10))).String()
	return OutboxMessage{Topic: topic, UUID: id, Payload: cp.Note, Metadata: map[string]string{
		"message_id": id, "content_type": "text/plain; charset=utf-8", "x-log-size": strconv.FormatUint(cp.Size, 10),
	}}
}

// logLoop sequences the log every SequenceInterval and tries a checkpoint
// every CheckpointInterval, until ctx ends. Every hub runs it; the ledger's
// locks make one sequencer and one checkpoint per interval.
func (h *Hub) logLoop(ctx context.Context) error {
	seq := time.NewTicker(h.cfg.SequenceInterval)
	defer seq.Stop()
	cp := time.NewTicker(h.cfg.CheckpointInterval)
	defer cp.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-seq.C:
			h.sequenceLog(ctx)
		case <-cp.C:
			h.sequenceLog(ctx) // the checkpoint covers what is queued now
			h.checkpoint(ctx)
		}
	}
}

// sequenceLog appends batch after batch while there are more.
func (h *Hub) sequenceLog(ctx context.Context) {
	for {
		n, err := h.logLedger.SequenceLog(ctx, logBatch)
		if err != nil {
			h.logFailure("sequence", err)
			return
		}
		delete(h.logStuck, "sequence")
		if n < logBatch {
			return
		}
	}
}

// checkpoint signs the tree if no hub did within the interval. The
// interval's last tenth is slack, so a ticker a little early (or another
// hub's clock a little behind) still finds it due.
func (h *Hub) checkpoint(ctx context.Context) {
	now := h.now()
	notBefore := now.Add(-h.cfg.CheckpointInterval + h.cfg.CheckpointInterval/10)
	cp, ok, err := h.logLedger.Checkpoint(ctx, notBefore, h.signer.Sign, func(cp tlog.Checkpoint) OutboxMessage {
		return CheckpointMessage(h.cfg.Topics.Checkpoints, h.signer.Origin(), cp)
	})
	if err != nil {
		h.logFailure("checkpoint", err)
		return
	}
	delete(h.logStuck, "checkpoint")
	if ok {
		h.committed()
		h.logger.Info("log checkpoint signed", "size", cp.Size)
	}
}

// logFailure counts and logs a failed step of the log's loop. A transient
// failure is a warning; a permanent one (bad data, a tree that no longer
// proves its checkpoint) recurs the same every round and stops the log, so
// it is an error, logged once until it changes or the step succeeds (the
// counter shows it goes on). Only logLoop calls it.
func (h *Hub) logFailure(step string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if !IsPermanent(err) {
		h.metrics.LogFailures.WithLabelValues(step, "transient").Inc()
		h.logger.Warn("log "+step+" failed", "error", err)
		return
	}
	h.metrics.LogFailures.WithLabelValues(step, "permanent").Inc()
	if h.logStuck == nil {
		h.logStuck = map[string]string{}
	}
	if text := err.Error(); h.logStuck[step] != text {
		h.logStuck[step] = text
		h.logger.Error("log "+step+" failed for good: the log is stopped until an operator mends it", "error", err)
	}
}

// LogProofs answers the log's questions from its ledger.
type LogProofs struct {
	Ledger LogReader
}

// EventProof is an event's place in the log and its inclusion proof in a
// checkpoint's tree.
type EventProof struct {
	Sequenced  bool // LeafIndex is set: the event is in the log (maybe past the checkpoint)
	LeafIndex  uint64
	LeafHash   []byte
	Proof      [][]byte
	Checkpoint tlog.Checkpoint
}

// checkpoint is the latest checkpoint (size 0) or the one of size.
func (p LogProofs) checkpoint(ctx context.Context, size uint64) (tlog.Checkpoint, error) {
	if size == 0 {
		return p.Ledger.LatestCheckpoint(ctx)
	}
	return p.Ledger.CheckpointOfSize(ctx, size)
}

// Latest is the latest checkpoint; ErrNotFound before the first.
func (p LogProofs) Latest(ctx context.Context) (tlog.Checkpoint, error) {
	return p.Ledger.LatestCheckpoint(ctx)
}

// Inclusion proves the event number/sequence in the checkpoint of size (0:
// the latest). ErrNotFound: no such event, or no such checkpoint;
// ErrNotSequenced: the event is not in that checkpoint's tree yet.
func (p LogProofs) Inclusion(ctx context.Context, number string, sequence int, size uint64) (EventProof, error) {
	index, err := p.Ledger.LeafIndex(ctx, number, sequence)
	if err != nil {
		return EventProof{}, err
	}
	cp, err := p.checkpoint(ctx, size)
	if errors.Is(err, ErrNotFound) && size == 0 {
		return EventProof{Sequenced: true, LeafIndex: index}, ErrNotSequenced // no checkpoint yet
	}
	if err != nil {
		return EventProof{}, err
	}
	if index >= cp.Size {
		return EventProof{Sequenced: true, LeafIndex: index}, ErrNotSequenced
	}
	leaf, err := p.Ledger.LogNodes(ctx, []tlog.NodeID{{Level: 0, Index: index}})
	if err != nil {
		return EventProof{}, fmt.Errorf("read leaf %d: %w", index, err)
	}
	proof, err := tlog.Inclusion(ctx, p.Ledger.LogNodes, index, cp.Size)
	if err != nil {
		return EventProof{}, fmt.Errorf("inclusion proof of leaf %d in %d: %w", index, cp.Size, err)
	}
	return EventProof{Sequenced: true, LeafIndex: index, LeafHash: leaf[0], Proof: proof, Checkpoint: cp}, nil
}

// Consistency proves the checkpoint of size from a prefix of the one of
// size to (0: the latest); ErrNotFound when either is not kept.
func (p LogProofs) Consistency(ctx context.Context, from, to uint64) (older, newer tlog.Checkpoint, proof [][]byte, err error) {
	if newer, err = p.checkpoint(ctx, to); err != nil {
		return older, newer, nil, err
	}
	if older, err = p.Ledger.CheckpointOfSize(ctx, from); err != nil {
		return older, newer, nil, err
	}
	if older.Size > newer.Size {
		return older, newer, nil, fmt.Errorf("checkpoint %d is larger than %d: %w", older.Size, newer.Size, ErrNotFound)
	}
	proof, err = tlog.Consistency(ctx, p.Ledger.LogNodes, older.Size, newer.Size)
	if err != nil {
		return older, newer, nil, fmt.Errorf("consistency proof %d → %d: %w", older.Size, newer.Size, err)
	}
	return older, newer, proof, nil
}
