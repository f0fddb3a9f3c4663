package routers_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// fakePoller is a district system the hub polls, with ESD's semantics:
// changes at or after the asked instant (so the last instant repeats), a
// page never split inside one instant.
type fakePoller struct {
	mu      sync.Mutex
	changes []routers.DistrictChange
	states  map[string]routers.DistrictChange // by reference
	polls   int
}

func (p *fakePoller) add(chs ...routers.DistrictChange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes = append(p.changes, chs...)
	sort.SliceStable(p.changes, func(i, j int) bool { return p.changes[i].At.Before(p.changes[j].At) })
}

func (p *fakePoller) setState(ref string, ch routers.DistrictChange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.states == nil {
		p.states = map[string]routers.DistrictChange{}
	}
	p.states[ref] = ch
}

func (p *fakePoller) pollCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.polls
}

func (p *fakePoller) Changes(_ context.Context, since time.Time, limit int) (routers.ChangePage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	page := routers.ChangePage{Next: since}
	for i, ch := range p.changes {
		if ch.At.Before(since) {
			continue
		}
		if len(page.Changes) >= limit && !ch.At.Equal(page.Next) {
			page.More = true
			break
		}
		page.Changes = append(page.Changes, p.changes[i])
		page.Next = ch.At
	}
	return page, nil
}

func (p *fakePoller) State(_ context.Context, ref string) (routers.DistrictChange, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.states[ref]
	if !ok {
		return routers.DistrictChange{}, &routers.PermanentError{Err: fmt.Errorf("unknown reference %s: %w", ref, routers.ErrNotFound)}
	}
	return st, nil
}

// deliveredAppeal registers one appeal in AZ-BIL and waits for its delivery.
func deliveredAppeal(t *testing.T, h *harness) (id string) {
	t.Helper()
	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	h.waitEvent(id, routers.StatusDelivered)
	return id
}

func TestPolling(t *testing.T) {
	t.Parallel()

	t.Run("ChangesOnceInOrderDespiteRepeats", func(t *testing.T) {
		t.Parallel()
		poller := &fakePoller{}
		h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}})
		id := deliveredAppeal(t, h)
		// A real ESD's clock: close to the hub's, in the recent past.
		at := h.clock.Now().Add(-time.Minute)
		poller.add(
			routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusDelivered, At: at},
			routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusInProgress, At: at.Add(time.Second)},
			routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusAnswered, Note: "Cavab verildi", At: at.Add(2 * time.Second)},
		)
		h.waitEvent(id, routers.StatusAnswered)
		polls := poller.pollCount()
		waitUntil(t, "more polls, each repeating the last instant", func() bool { return poller.pollCount() >= polls+5 })
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusAnswered}, statuses(h.eventsOf(id)))
		require.Equal(t, []int{1, 2, 3, 4}, sequencesOf(h.history(firstNumber)))
		require.Equal(t, "Cavab verildi", h.history(firstNumber)[3].Note)
	})

	t.Run("SkippedStatesStillASequence", func(t *testing.T) {
		t.Parallel()
		poller := &fakePoller{}
		h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}})
		// The district has not accepted the appeal yet: ESD reports it closed
		// straight away (registered, then everything at once).
		h.districts["AZ-BIL"].setHook(func(context.Context) error {
			return &routers.TransientError{Err: errors.New("ESD busy")}
		})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		h.waitEvent(id, routers.StatusRegistered)
		poller.add(routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-9", Status: routers.StatusClosed, At: h.clock.Now().Add(-time.Minute)})
		h.waitEvent(id, routers.StatusClosed)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusClosed}, statuses(h.eventsOf(id)))
		require.Equal(t, "ESD-9", h.appeal(firstNumber).DistrictRef)
	})

	t.Run("AnInstantBiggerThanAPage", func(t *testing.T) {
		t.Parallel()
		poller := &fakePoller{}
		h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}})
		var ids []string
		for range 3 {
			ids = append(ids, deliveredAppeal(t, h))
		}
		// 150 changes of one instant (more than a page of 100), then one more.
		at := h.clock.Now().Add(-time.Minute)
		for i := range 150 {
			poller.add(routers.DistrictChange{AppealNumber: "AZ-BIL-2026-999999", Reference: "X", Status: routers.StatusInProgress, At: at, Note: string(rune('a' + i%26))})
		}
		poller.add(routers.DistrictChange{AppealNumber: firstNumber, Status: routers.StatusAnswered, At: at.Add(time.Second)})
		h.waitEvent(ids[0], routers.StatusAnswered)
	})
}

func TestReconciliation(t *testing.T) {
	t.Parallel()
	poller := &fakePoller{}
	h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}, reconcileAfter: time.Millisecond})
	// The district reference of the first appeal is REF-<number> (the fake district).
	ref := "REF-" + firstNumber
	poller.setState(ref, routers.DistrictChange{Reference: ref, Status: routers.StatusAnswered, Note: "missed by polling", At: h.clock.Now()})
	id := deliveredAppeal(t, h)
	h.waitEvent(id, routers.StatusAnswered)
	waitUntil(t, "a correction counted", func() bool {
		return testutil.ToFloat64(h.metricsOf().Reconciled.WithLabelValues("AZ-BIL", "corrected")) >= 1
	})
	require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusAnswered}, statuses(h.eventsOf(id)))

	// The district now claims an older state: the hub cannot undo, it counts it.
	poller.setState(ref, routers.DistrictChange{Reference: ref, Status: routers.StatusInProgress, At: h.clock.Now()})
	waitUntil(t, "hub ahead counted", func() bool {
		return testutil.ToFloat64(h.metricsOf().Reconciled.WithLabelValues("AZ-BIL", "hub_ahead")) >= 1
	})
	h.barrier()
	require.Len(t, h.eventsOf(id), 3, "no event for a district that is behind")
}

// TestReconciliationSkipsUnknownAppeals: an appeal the district does not
// know is reported and passed over; it does not block the others.
func TestReconciliationSkipsUnknownAppeals(t *testing.T) {
	t.Parallel()
	poller := &fakePoller{}
	h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}, reconcileAfter: time.Millisecond})
	first := deliveredAppeal(t, h) // the district does not know it: State fails
	second := deliveredAppeal(t, h)
	_ = first
	secondRef := "REF-AZ-BIL-2026-000002"
	poller.setState(secondRef, routers.DistrictChange{Reference: secondRef, Status: routers.StatusAnswered, At: h.clock.Now()})
	h.waitEvent(second, routers.StatusAnswered)
	waitUntil(t, "the unknown appeal counted", func() bool {
		return testutil.ToFloat64(h.metricsOf().Reconciled.WithLabelValues("AZ-BIL", "unknown_to_district")) >= 1
	})
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{breakerFailures: 2, breakerCooldown: 300 * time.Millisecond})
	down := &routers.TransientError{Err: errors.New("503")}
	h.districts["AZ-BIL"].plan(down, down)
	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	waitUntil(t, "the breaker opens", func() bool {
		return testutil.ToFloat64(h.metricsOf().BreakerState.WithLabelValues("AZ-BIL")) == 2
	})
	opened := time.Now()
	require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
	h.waitEvent(id, routers.StatusDelivered)
	calls := h.districts["AZ-BIL"].submitsOf(firstNumber)
	require.Len(t, calls, 3, "while open the district was not called; one probe closed it")
	require.GreaterOrEqual(t, calls[2].at.Sub(opened), 250*time.Millisecond, "the probe waited for the cool-down")
	require.Equal(t, float64(0), testutil.ToFloat64(h.metricsOf().BreakerState.WithLabelValues("AZ-BIL")), "closed again")
	require.Equal(t, float64(1), testutil.ToFloat64(h.metricsOf().BreakerTrips.WithLabelValues("AZ-BIL")))
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBreakerParksTheBacklog: while a district is down its backlog waits in
// the ledger at almost no cost (one probe per cool-down), and when a probe
// succeeds the whole backlog drains at once, without waiting out each
// appeal's grown back-off.
func TestBreakerParksTheBacklog(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{breakerFailures: 2, breakerCooldown: 300 * time.Millisecond, retryMax: time.Minute, maxAttempts: 100})
	down := &routers.TransientError{Err: errors.New("503")}
	var mu sync.Mutex
	isDown := true
	h.districts["AZ-BIL"].setHook(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if isDown {
			return down
		}
		return nil
	})
	var ids []string
	for range 20 {
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		ids = append(ids, id)
	}
	waitUntil(t, "the breaker opens", func() bool {
		return testutil.ToFloat64(h.metricsOf().BreakerState.WithLabelValues("AZ-BIL")) == 2
	})
	callsAtOpen := len(h.districts["AZ-BIL"].allSubmits())
	time.Sleep(1200 * time.Millisecond) // four cool-downs with the district down
	probes := len(h.districts["AZ-BIL"].allSubmits()) - callsAtOpen
	require.LessOrEqual(t, probes, 5, "while open, the district gets a probe per cool-down, not the backlog")

	mu.Lock()
	isDown = false
	mu.Unlock()
	recovered := time.Now()
	for _, id := range ids {
		h.waitEvent(id, routers.StatusDelivered)
	}
	require.Less(t, time.Since(recovered), 2*time.Second, "the backlog drained at once, not after each appeal's back-off")
}
