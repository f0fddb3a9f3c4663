package routers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/routers/tlog"
)

// The transparency log's audit (`korpu audit verify`): the tree is
// recomputed from its leaves, each leaf is checked against its history
// row, and every checkpoint (the ledger's and the copies monitors kept) is
// checked against the recomputed tree, its signature and its predecessor.

// AuditLeaf is one stored leaf with what the history says of its event.
type AuditLeaf struct {
	Index        uint64
	AppealNumber string
	Sequence     int
	LeafHash     []byte
	// EventHash is the history row's chain hash; nil when the row is gone
	// or has none.
	EventHash []byte
	// At is the event's time as its history row says; zero when unknown.
	At time.Time
}

// EventRef names one history event.
type EventRef struct {
	AppealNumber string
	Sequence     int
}

// LogAuditSource is what the audit reads.
type LogAuditSource interface {
	// AuditLeaves calls fn with every stored leaf, by leaf index.
	AuditLeaves(ctx context.Context, fn func(AuditLeaf) error) error
	// UnloggedEvents lists up to limit history events that have neither a
	// leaf nor a place in the log's queue.
	UnloggedEvents(ctx context.Context, limit int) ([]EventRef, error)
	// Checkpoints lists every kept checkpoint, by size.
	Checkpoints(ctx context.Context) ([]tlog.Checkpoint, error)
	// LogNodes reads stored nodes (see tlog.NodeReader).
	LogNodes(ctx context.Context, ids []tlog.NodeID) ([][]byte, error)
}

// LogAudit is what the audit found: Problems is empty when the log, its
// history and every checkpoint agree.
type LogAudit struct {
	Leaves      uint64 // leaves read
	Checkpoints int    // kept checkpoints checked
	Copies      int    // outside copies checked
	// FirstBadLeaf is the lowest leaf index found wrong or missing, with its
	// event if known; -1 if none.
	FirstBadLeaf int64
	FirstBadRef  EventRef
	Problems     []string
}

// LogClock is what the audit needs to see that the newest checkpoints were
// removed (and the leaves past the kept ones rewritten, which no kept
// signature then covers): a log the hub signs has no leaf long uncovered.
type LogClock struct {
	Now      time.Time     // the auditor's clock
	Interval time.Duration // hub.checkpoint_interval; 0: no such check
}

// checkpointSlack is what a log may lag behind its interval before the
// audit calls its uncovered leaves a problem: a sequencing round, a
// checkpoint's transaction, clocks a little apart.
const checkpointSlack = time.Minute

// maxAuditProblems bounds the report: the first problems name the damage.
const maxAuditProblems = 50

func (a *LogAudit) problem(format string, args ...any) {
	if len(a.Problems) < maxAuditProblems {
		a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
	}
}

func (a *LogAudit) badLeaf(index uint64, ref EventRef, format string, args ...any) {
	if a.FirstBadLeaf < 0 {
		a.FirstBadLeaf, a.FirstBadRef = int64(index), ref //nolint:gosec // G115: indexes < 2^63
	}
	a.problem(format, args...)
}

// AuditLog checks the log read from src against itself, its history, and
// the checkpoints: those kept and copies (signed notes a monitor kept),
// each verified with verifier (nil only for a log never signed). An
// altered or foreign copy is a problem, and so are leaves that no
// checkpoint has covered for longer than clock allows.
func AuditLog(ctx context.Context, src LogAuditSource, verifier *tlog.Verifier, copies map[string][]byte, clock LogClock) (LogAudit, error) {
	report := LogAudit{FirstBadLeaf: -1}
	kept, err := src.Checkpoints(ctx)
	if err != nil {
		return report, fmt.Errorf("read checkpoints: %w", err)
	}
	if verifier == nil && (len(kept) > 0 || len(copies) > 0) {
		return report, errors.New("checkpoints to verify, and no verifier key")
	}
	// The copies that open, by name; each size's root is then compared.
	outside := map[string]tlog.Checkpoint{}
	for _, name := range slices.Sorted(maps.Keys(copies)) {
		cp, err := verifier.Open(copies[name])
		if err != nil {
			report.problem("checkpoint copy %s: %v", name, err)
			continue
		}
		outside[name] = cp
	}
	report.Copies = len(copies)
	// The sizes whose recomputed root is needed.
	want := map[uint64][]byte{}
	for _, cp := range kept {
		want[cp.Size] = nil
	}
	for _, cp := range outside {
		want[cp.Size] = nil
	}

	covered := uint64(0) // leaves under the latest kept checkpoint
	if n := len(kept); n > 0 {
		covered = kept[n-1].Size
	}
	var firstUncovered time.Time // the event time of leaf covered

	tree := tlog.Empty()
	next := uint64(0)
	gap := false // the first bad leaf is a missing one, whose event the leaf no longer names
	err = src.AuditLeaves(ctx, func(l AuditLeaf) error {
		ref := EventRef{l.AppealNumber, l.Sequence}
		if l.Index != next {
			gap = gap || report.FirstBadLeaf < 0
			report.badLeaf(next, ref, "leaf %d missing (the next stored is %d, appeal %s sequence %d)", next, l.Index, l.AppealNumber, l.Sequence)
			next = l.Index // count on; the roots from here differ anyway
		}
		switch {
		case l.EventHash == nil:
			report.badLeaf(l.Index, ref, "leaf %d (appeal %s sequence %d): no history row with a hash", l.Index, l.AppealNumber, l.Sequence)
		case !bytes.Equal(tlog.LeafHash(l.EventHash), l.LeafHash):
			report.badLeaf(l.Index, ref, "leaf %d (appeal %s sequence %d): differs from its history row's hash", l.Index, l.AppealNumber, l.Sequence)
		}
		if l.Index == covered {
			firstUncovered = l.At
		}
		if err := tree.Append(l.LeafHash, nil); err != nil {
			return err
		}
		next++
		if _, ok := want[tree.Size()]; ok {
			want[tree.Size()] = tree.Root()
		}
		return nil
	})
	if err != nil {
		return report, fmt.Errorf("read leaves: %w", err)
	}
	report.Leaves = tree.Size()
	if n := len(kept); n > 0 && kept[n-1].Size > next { // next: one past the last stored index
		gap = gap || report.FirstBadLeaf < 0
		report.badLeaf(next, EventRef{}, "leaves %d to %d missing: the log signed %d", next, kept[n-1].Size-1, kept[n-1].Size)
	}

	report.uncovered(kept, verifier != nil, firstUncovered, clock)

	unlogged, err := src.UnloggedEvents(ctx, maxAuditProblems)
	if err != nil {
		return report, fmt.Errorf("read unlogged events: %w", err)
	}
	if gap && len(unlogged) > 0 {
		report.FirstBadRef = unlogged[0] // most likely the missing leaf's event
	}
	for _, ev := range unlogged {
		report.problem("appeal %s sequence %d: in the history, neither in the log nor queued for it", ev.AppealNumber, ev.Sequence)
	}

	var previous *tlog.Checkpoint
	for i := range kept {
		cp := kept[i]
		report.Checkpoints++
		if err := checkKept(verifier, cp, want[cp.Size]); err != nil {
			report.problem("checkpoint %d: %v", cp.Size, err)
		}
		if previous != nil {
			if err := consistent(ctx, src, *previous, cp); err != nil {
				report.problem("checkpoints %d → %d: %v", previous.Size, cp.Size, err)
			}
		}
		previous = &kept[i]
	}
	for _, name := range slices.Sorted(maps.Keys(outside)) {
		cp := outside[name]
		if root := want[cp.Size]; !bytes.Equal(root, cp.Root) {
			report.problem("checkpoint copy %s (size %d): its root is not the log's (recomputed from the leaves)", name, cp.Size)
		}
		if !slices.ContainsFunc(kept, func(k tlog.Checkpoint) bool { return k.Size == cp.Size && bytes.Equal(k.Root, cp.Root) }) {
			report.problem("checkpoint copy %s (size %d): the log keeps no such checkpoint", name, cp.Size)
		}
	}
	return report, nil
}

// uncovered reports leaves past the latest kept checkpoint when that
// checkpoint (or, with none, the first leaf's event) is older than two
// intervals and the slack: the hub signs every interval, so the newest
// checkpoints were removed, or the hub has stopped signing. signed: the
// log has a key, so even its first leaves must be covered by now.
func (a *LogAudit) uncovered(kept []tlog.Checkpoint, signed bool, firstAt time.Time, clock LogClock) {
	if clock.Interval <= 0 {
		return
	}
	limit := 2*clock.Interval + checkpointSlack
	cutoff := clock.Now.Add(-limit)
	if n := len(kept); n > 0 {
		last := kept[n-1]
		if a.Leaves > last.Size && last.At.Before(cutoff) {
			a.problem("leaves %d..%d are covered by no checkpoint younger than %s: the latest kept, of size %d, was signed at %s; newer checkpoints were removed, or the hub stopped signing",
				last.Size, a.Leaves-1, limit, last.Size, last.At.UTC().Format(time.RFC3339))
		}
		return
	}
	if signed && a.Leaves > 0 && !firstAt.IsZero() && firstAt.Before(cutoff) {
		a.problem("leaves 0..%d are covered by no checkpoint: the first is an event of %s, older than %s; the checkpoints were removed, or the hub never signed",
			a.Leaves-1, firstAt.UTC().Format(time.RFC3339), limit)
	}
}

// checkKept checks a kept checkpoint: its note's signature, that the note
// says what the row says, and the root recomputed from the leaves (nil: the
// log has fewer leaves).
func checkKept(verifier *tlog.Verifier, cp tlog.Checkpoint, recomputed []byte) error {
	opened, err := verifier.Open(cp.Note)
	if err != nil {
		return err
	}
	if opened.Size != cp.Size || !bytes.Equal(opened.Root, cp.Root) {
		return errors.New("its note and its row disagree")
	}
	if recomputed == nil {
		return errors.New("the log has fewer leaves than it signed")
	}
	if !bytes.Equal(recomputed, cp.Root) {
		return errors.New("its root is not the root recomputed from the leaves")
	}
	return nil
}

// consistent verifies the consistency proof, from the stored nodes, that
// older's tree is a prefix of newer's.
func consistent(ctx context.Context, src LogAuditSource, older, newer tlog.Checkpoint) error {
	p, err := tlog.Consistency(ctx, src.LogNodes, older.Size, newer.Size)
	if err != nil {
		return err
	}
	return proof.VerifyConsistency(tlog.Hasher, older.Size, newer.Size, p, older.Root, newer.Root)
}
