package routers_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// logSigner is a new log key's signer.
func logSigner(t *testing.T) *tlog.Signer {
	t.Helper()
	skey, _, err := tlog.GenerateKey("korpu.routers-test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	return signer
}

// TestHubSequencesAndCheckpoints: with the log on, the hub's own loop puts
// the appeal's events in the log and publishes signed checkpoints of it on
// the checkpoints topic, growing, each verifying with the key.
func TestHubSequencesAndCheckpoints(t *testing.T) {
	t.Parallel()
	signer := logSigner(t)
	h := newHarnessWith(t, harnessOptions{signer: signer})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	msgs, err := h.pubsub.Subscribe(ctx, topics.Checkpoints)
	require.NoError(t, err)

	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	ev := h.waitEvent(id, routers.StatusDelivered)
	var last uint64
	for last < uint64(ev.Sequence) {
		select {
		case msg := <-msgs:
			cp, err := signer.Verifier().Open(msg.Payload)
			require.NoError(t, err)
			require.Greater(t, cp.Size, last, "a checkpoint only when the log grew")
			last = cp.Size
			msg.Ack()
		case <-time.After(waitFor):
			t.Fatalf("no checkpoint of the appeal's %d events; the last was of %d", ev.Sequence, last)
		}
	}
	index, err := h.ledger.LeafIndex(t.Context(), ev.AppealNumber, ev.Sequence)
	require.NoError(t, err)
	require.Less(t, index, last)
}

// stuckLog is a log whose sequencing fails for good, as one bad queued
// row makes it.
type stuckLog struct{ routers.LogLedger }

func (stuckLog) SequenceLog(context.Context, int) (int, error) {
	return 0, &routers.PermanentError{Err: errors.New("duplicate key value violates unique constraint")}
}

// levels counts the records logged at each level, by message.
type levels struct {
	mu     sync.Mutex
	counts map[slog.Level]map[string]int
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *levels) WithGroup(string) slog.Handler            { return l }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts[r.Level] == nil {
		l.counts[r.Level] = map[string]int{}
	}
	l.counts[r.Level][r.Message]++
	return nil
}

func (l *levels) of(level slog.Level) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.counts[level])
}

// TestHubLogStuckSaysSoOnce: a sequencing failure no retry mends is
// logged at error level once, not every round, and counted every round.
func TestHubLogStuckSaysSoOnce(t *testing.T) {
	t.Parallel()
	signer := logSigner(t)
	logged := &levels{counts: map[slog.Level]map[string]int{}}
	h := newHarnessWith(t, harnessOptions{signer: signer, logger: slog.New(logged),
		logLedger: func(l routers.LogLedger) routers.LogLedger { return stuckLog{l} }})
	failures := h.metricsOf().LogFailures.WithLabelValues("sequence", "permanent")
	require.Eventually(t, func() bool { return testutil.ToFloat64(failures) >= 5 }, waitFor, time.Millisecond,
		"every round's failure counted")
	require.Equal(t, map[string]int{"log sequence failed for good: the log is stopped until an operator mends it": 1}, logged.of(slog.LevelError))
	require.Empty(t, logged.of(slog.LevelWarn))
}
