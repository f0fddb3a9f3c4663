//go:build faults

package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
)

// TestRollingUpdate restarts three hubs one after another while 1,500
// portal messages stream in over 90 s, as a rolling update does: SIGTERM a
// hub, wait until it exits 0 within its shutdown budget, start it again,
// wait for /readyz, then the next. Nothing may be lost or done twice, and
// the portal must see every appeal's events in order as they arrive,
// before any dedup: a graceful stop is no fault, so it may not even repeat
// an event. It uses the shared RabbitMQ and PostgreSQL without restarting
// them (build tag faults; scripts/faults).
func TestRollingUpdate(t *testing.T) {
	const (
		total   = 1500
		rate    = total / 90.0 // messages a second: the stream lasts 90 s
		maxTail = 30 * time.Second
		// The first restart comes once the stream is under way, each next
		// one a while after the last hub is ready again.
		firstRestart = 15 * time.Second
		between      = 12 * time.Second
	)
	seed := uint64(time.Now().UnixNano())
	// Districts answer in about a second, so every hub has calls under way
	// when its SIGTERM comes.
	calls := &callsInFlight{latency: time.Second}
	s := newStackWith(t, stackOptions{codes: faultCodes, hubs: 3, failRate: 0.05, wrap: calls.wrap})
	hubs := make([]*hubProcess, 3)
	for i := range hubs {
		hubs[i] = s.startHubAt(i)
	}
	gen := s.generatorWith(seed, 0.2, 0.08)
	e := newExpectations()
	t0 := time.Now()
	published := s.publishLoad(gen, e, total, rate)

	type restart struct {
		hub                int
		requests, district int            // in flight at the SIGTERM, in all
		finished           map[string]int // what the hub logged between SIGTERM and exit
		at, exit, ready    time.Duration
	}
	var restarts []restart
	var lastReady time.Duration
	next := firstRestart
	for i := range hubs {
		time.Sleep(time.Until(t0.Add(next))) // the schedule, not synchronisation
		select {
		case err := <-hubs[i].done:
			t.Fatalf("hub %d exited by itself before its restart: %v (log %s)", i, err, hubs[i].log)
		default:
		}
		r := restart{hub: i, requests: pending(s, e), district: int(calls.n.Load()), at: time.Since(t0)}
		require.Positive(t, r.requests, "hub %d's SIGTERM came while requests were in flight", i)
		stopped := time.Now()
		require.NoError(t, hubs[i].cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err := <-hubs[i].done:
			require.NoError(t, err, "hub %d: a graceful stop exits 0", i)
		case <-time.After(shutdownBudget + 5*time.Second):
			t.Fatalf("hub %d did not exit within %s of SIGTERM", i, shutdownBudget+5*time.Second)
		}
		r.exit = time.Since(stopped)
		require.LessOrEqual(t, r.exit, shutdownBudget, "hub %d stops within its shutdown budget", i)
		log, err := os.ReadFile(hubs[i].log)
		require.NoError(t, err)
		require.Contains(t, string(log), `"msg":"stopped"`, "hub %d went through its stop sequence", i)
		r.finished = finishedAfterStop(t, hubs[i].log)
		started := time.Now()
		hubs[i] = s.startHubAt(i)
		r.ready = time.Since(started)
		lastReady = time.Since(t0)
		next = lastReady + between
		restarts = append(restarts, r)
	}

	out := <-published
	require.NoError(t, out.err)
	publishedAt := time.Since(t0)
	drain(s, e)
	drainedAt := time.Since(t0)
	checkHubsRunning(t, hubs)

	a := auditRun(s, e)
	order := auditArrivalOrder(s.tracker)
	poisonFiled, givenUp := deadLetterCounts(s, e)

	report(t, "== rolling update summary (seed %d)", seed)
	report(t, "requests: %d messages published in %s: %d valid, %d invalid, %d poisoned, %d duplicates",
		out.stats.published, out.stats.took.Round(time.Second), len(e.valid), len(e.invalid), e.poisoned, e.duplicates)
	for _, r := range restarts {
		report(t, "  hub %d: SIGTERM at %7s with %3d requests in flight (%d district calls under way); exited 0 after %s, ready %s after its start; finished meanwhile: %v",
			r.hub, r.at.Round(100*time.Millisecond), r.requests, r.district, r.exit.Round(10*time.Millisecond), r.ready.Round(10*time.Millisecond), r.finished)
	}
	report(t, "lost: %d, duplicated: %d, sequence gaps: %d, not at final status: %d", len(a.lost), len(a.duplicated), len(a.gaps), a.notFinal)
	report(t, "status events arrived out of order (before dedup): %d (%d repeats of a sequence already seen, %d first arrivals after a later sequence); repeated status events: %d; repeated POSTs to districts: %d",
		order.inversions(), order.staleRepeats, order.lateFirsts, a.repeatedEvents, a.repeatedPosts)
	report(t, "poisoned filed as dead letters: %d of %d; deliveries given up: %d", poisonFiled, e.poisoned, givenUp)
	tail := drainedAt - max(lastReady, publishedAt)
	report(t, "tail: %s (at most %s) — the last hub ready at %s, publishing ended at %s, drained at %s",
		tail.Round(100*time.Millisecond), maxTail, lastReady.Round(100*time.Millisecond), publishedAt.Round(100*time.Millisecond), drainedAt.Round(100*time.Millisecond))
	for _, list := range [][]string{a.lost, a.duplicated, a.gaps, order.examples} {
		for i, line := range list {
			if i == 20 {
				report(t, "  … and %d more", len(list)-20)
				break
			}
			report(t, "  %s", line)
		}
	}

	finished := 0
	for _, r := range restarts {
		finished += r.finished["appeal delivered"]
	}
	require.Positive(t, finished, "the SIGTERMs came while their hubs had deliveries under way, which they finished")
	requireZeros(t, a)
	require.Zero(t, order.inversions(), "status events out of order as they arrived")
	require.Zero(t, a.repeatedEvents, "status events repeated by a graceful stop")
	require.Zero(t, a.repeatedPosts, "district calls repeated by a graceful stop")
	require.Equal(t, e.poisoned, poisonFiled, "poisoned messages, each filed once")
	require.Zero(t, givenUp, "deliveries given up")
	require.LessOrEqual(t, tail, maxTail, "the tail after the last restart and the last publish")
}

// arrivalOrder is how the status events arrived, per appeal, before the
// portal's dedup. Contract §2 lets the portal drop "a repeated or older
// one" (by sequence): a repeat of a sequence it already has, arriving after
// a later one, costs it nothing; an event first arriving after a later
// sequence would be dropped as older, and the citizen would never see it.
type arrivalOrder struct {
	staleRepeats int // a sequence already seen, arriving after a later one
	lateFirsts   int // a sequence first arriving after a later one
	examples     []string
}

func (o arrivalOrder) inversions() int { return o.staleRepeats + o.lateFirsts }

// auditArrivalOrder counts every event that arrived with a lower sequence
// than one its appeal had already received.
func auditArrivalOrder(tr *portalsim.Tracker) arrivalOrder {
	var o arrivalOrder
	for _, number := range tr.Appeals() {
		seen := map[int]bool{}
		highest := 0
		for _, ev := range tr.Appeal(number) {
			if ev.Sequence < highest {
				kind := "a repeat"
				if seen[ev.Sequence] {
					o.staleRepeats++
				} else {
					o.lateFirsts++
					kind = "its first arrival"
				}
				o.examples = append(o.examples, fmt.Sprintf("%s: sequence %d (%s, %s) arrived after %d", number, ev.Sequence, ev.Status, kind, highest))
			}
			seen[ev.Sequence] = true
			highest = max(highest, ev.Sequence)
		}
	}
	return o
}

// pending counts the requests of e published but not yet at their end.
func pending(s *stack, e *expectations) int {
	left, _ := unsettled(s, e)
	return len(left)
}
