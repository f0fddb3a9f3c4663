//go:build faults

package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// deliveries records when each appeal's delivered event first reached the portal.
type deliveries struct {
	mu   sync.Mutex
	seen map[string]bool
	at   map[string][]time.Time // by district
}

func (d *deliveries) observe(ev routers.StatusEvent) {
	if ev.Status != routers.StatusDelivered {
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[ev.EventID] {
		return // a relay repeat
	}
	d.seen[ev.EventID] = true
	d.at[ev.District] = append(d.at[ev.District], now)
}

// rate is the delivered events a second of codes whose arrival falls in [from, to).
func (d *deliveries) rate(codes []string, from, to time.Time) float64 {
	return float64(d.count(codes, from, to)) / to.Sub(from).Seconds()
}

// count is the delivered events of codes whose arrival falls in [from, to).
func (d *deliveries) count(codes []string, from, to time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, code := range codes {
		for _, at := range d.at[code] {
			if !at.Before(from) && at.Before(to) {
				n++
			}
		}
	}
	return n
}

// TestIsolation proves that a dead district costs the others nothing: under
// the same steady load, below the hub's capacity, districts 1–9 deliver at
// least 95% as fast while district 10 answers 503 as when all are healthy,
// and district 10's backlog drains by itself once it recovers.
func TestIsolation(t *testing.T) {
	const (
		rate   = 100.0 // requests a second offered: a third of the hub's capacity, leaving room for this test's own simulators on two cores
		warmup = 5 * time.Second
		window = 30 * time.Second
	)
	d := &deliveries{seen: map[string]bool{}, at: map[string][]time.Time{}}
	s := newStackWith(t, stackOptions{
		codes: faultCodes,
		// The production breaker and backoff shape, with retry_max short
		// enough that the dead district's backlog comes back within a minute.
		hubTuning: "retry_initial: 1s, retry_max: 10s, breaker_cooldown: 5s",
		observe:   d.observe,
	})
	s.startHub()
	healthy, dead := faultCodes[:9], faultCodes[9]
	// Nearly every message valid, so both phases offer the same deliveries.
	gen := s.generatorWith(7, 0.0001, 0.0001)
	e := newExpectations()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type outcome struct {
		stats publishStats
		err   error
	}
	published := make(chan outcome, 1)
	go func() {
		stats, err := publishSteadily(ctx, s.publisher, s.topics.Requests, rate, 4, func() (portalsim.Message, bool) {
			m := gen.Next()
			e.add(m)
			return m, true
		})
		published <- outcome{stats, err}
	}()

	start := time.Now()
	phase1From, phase1To := start.Add(warmup), start.Add(warmup+window)
	time.Sleep(time.Until(phase1To)) // the measurement window itself
	s.districts[dead].SetDown(true)
	downAt := time.Now()
	phase2From, phase2To := downAt.Add(warmup), downAt.Add(warmup+window)
	time.Sleep(time.Until(phase2To))
	stop()
	out := <-published
	require.NoError(t, out.err)
	s.districts[dead].SetDown(false)
	upAt := time.Now()

	// The dead district's backlog drains by itself, and so does everything else.
	var valid []string
	for id := range e.valid {
		valid = append(valid, id)
	}
	unanswered := func() int {
		n := 0
		for _, id := range valid {
			evs := s.tracker.Request(id)
			if len(evs) == 0 || evs[len(evs)-1].Status != finalStatus {
				n++
			}
		}
		return n
	}
	pollUntil(3*time.Minute, func() bool { return unanswered() == 0 })
	require.Zero(t, unanswered(), "appeals not answered 3 minutes after district 10 recovered")
	drained := time.Since(upAt)
	backlog := d.count([]string{dead}, upAt, time.Now())

	r1 := d.rate(healthy, phase1From, phase1To)
	r2 := d.rate(healthy, phase2From, phase2To)
	ratio := r2 / r1
	report(t, "== isolation (offered %.0f requests/s, achieved %.1f/s over %s, %d valid)", rate,
		float64(out.stats.published)/out.stats.took.Seconds(), out.stats.took.Round(time.Second), len(e.valid))
	report(t, "districts 1–9 delivered/s, all healthy:        %.1f", r1)
	report(t, "districts 1–9 delivered/s, district 10 down:   %.1f", r2)
	report(t, "ratio: %.3f (must be ≥ 0.95)", ratio)
	report(t, "district 10's backlog of %d appeals delivered after its recovery; everything answered %s after it", backlog, drained.Round(100*time.Millisecond))

	require.GreaterOrEqual(t, ratio, 0.95, "a dead district slows the others")
	require.Positive(t, backlog, "district 10 had a backlog to drain")
	require.Empty(t, s.tracker.Violations())
	total := 0
	for _, sim := range s.districts {
		total += sim.Created()
	}
	require.Equal(t, len(e.valid), total, "each valid appeal created once in its district")
}
