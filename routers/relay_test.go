package routers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

// heldOutbox counts every record it is handed, by UUID, as published: a
// broker has them once they are sent. It holds the confirms of its first
// batch until released, then fails it if its context ended meanwhile, as
// waiting for the broker's confirms on that context would.
type heldOutbox struct {
	entered chan struct{}
	release chan struct{}

	mu        sync.Mutex
	published map[string]int
}

func (o *heldOutbox) PublishOutbox(ctx context.Context, records []routers.OutboxRecord) error {
	o.mu.Lock()
	first := len(o.published) == 0
	for _, r := range records {
		o.published[r.UUID]++
	}
	o.mu.Unlock()
	if first {
		close(o.entered)
		<-o.release
	}
	return ctx.Err()
}

// TestRelayFinishesItsBatchOnStop stops the hub while the relay publishes:
// the batch is finished and removed, so the stop's last flush publishes
// none of it again.
func TestRelayFinishesItsBatchOnStop(t *testing.T) {
	t.Parallel()
	out := &heldOutbox{entered: make(chan struct{}), release: make(chan struct{}), published: map[string]int{}}
	h := newHarnessWith(t, harnessOptions{outbox: out})
	body, _ := h.body("request-appeal.json", nil)
	h.publish(body)
	select {
	case <-out.entered:
	case <-time.After(waitFor):
		t.Fatal("the relay published nothing")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- h.stopHub() }()
	<-h.hubCtx.Done() // the stop has begun before the batch is released
	close(out.release)
	require.NoError(t, <-stopped)
	require.NoError(t, h.hub.Flush(t.Context()))

	out.mu.Lock()
	defer out.mu.Unlock()
	require.NotEmpty(t, out.published)
	for id, n := range out.published {
		require.Equal(t, 1, n, "record %s published %d times", id, n)
	}
}

// deadlineLedger notes whether the relay's batches are bounded in time.
type deadlineLedger struct {
	ledgertest.Ledger
	relayed   chan struct{}
	unbounded atomic.Int32
}

func (l *deadlineLedger) Relay(ctx context.Context, limit int, publish func([]routers.OutboxRecord) error) (int, error) {
	if _, ok := ctx.Deadline(); !ok {
		l.unbounded.Add(1)
	}
	select {
	case l.relayed <- struct{}{}:
	default:
	}
	return l.Ledger.Relay(ctx, limit, publish)
}

// TestRelayBatchBounded: a batch is detached from the stop, but bounded, so
// that a database gone silent mid-batch cannot hold up the stop (runHub
// waits for the relay) until the kernel gives up on the connection.
func TestRelayBatchBounded(t *testing.T) {
	t.Parallel()
	var ledger *deadlineLedger
	h := newHarnessWith(t, harnessOptions{ledger: func(_ *testing.T, now func() time.Time) ledgertest.Ledger {
		ledger = &deadlineLedger{Ledger: memory.NewLedger(now), relayed: make(chan struct{}, 1)}
		return ledger
	}})
	select {
	case <-ledger.relayed:
	case <-time.After(waitFor):
		t.Fatal("the relay never ran")
	}
	require.NoError(t, h.stopHub())
	require.Zero(t, ledger.unbounded.Load(), "relay batches without a deadline")
}
