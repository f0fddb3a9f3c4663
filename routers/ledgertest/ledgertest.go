// Package ledgertest is the conformance suite of routers.Ledger: every
// implementation (PostgreSQL, the in-memory demo store) runs it from its own
// tests, so the flows can rely on the same behaviour whichever store they get.
//
//	func TestLedger(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T, now func() time.Time) routers.Ledger { return memory.NewLedger(now) })
//	}
//
// The suite uses nothing but the port: it reads comments back through
// UpdateComment with a callback that rolls back, and the outbox through Relay.
package ledgertest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// Epoch is where every test's clock starts: years away from any day the
// suite runs on, so a store that reads the wall clock instead of the one it
// is given fails.
var Epoch = time.Date(2031, 3, 20, 9, 0, 0, 0, routers.Baku)

// clock is a test's clock: it starts at Epoch and every reading is one
// millisecond after the last, so the times a store records are ordered as a
// real clock's would be.
type clock struct{ ticks atomic.Int64 }

func (c *clock) Now() time.Time { return Epoch.Add(time.Duration(c.ticks.Add(1)) * time.Millisecond) }

// clocks holds the clock each test's ledger was given, by test.
var clocks sync.Map

// clockOf returns the clock of the ledger t made.
func clockOf(t *testing.T) *clock {
	t.Helper()
	c, ok := clocks.Load(t)
	if !ok {
		t.Fatal("ledgertest: the test made no ledger")
	}
	return c.(*clock)
}

// Run runs every conformance test against the ledgers newLedger makes. Each
// test calls newLedger once and must get a fresh, empty store of its own
// that takes its time from now; tests run in parallel.
func Run(t *testing.T, newLedgerAt func(t *testing.T, now func() time.Time) routers.Ledger) {
	t.Helper()
	newLedger := func(t *testing.T) routers.Ledger {
		c := &clock{}
		clocks.Store(t, c)
		t.Cleanup(func() { clocks.Delete(t) })
		return newLedgerAt(t, c.Now)
	}
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) routers.Ledger)
	}{
		{"Register", testRegister},
		{"Inbox", testInbox},
		{"Appeal", testAppeal},
		{"Comment", testComment},
		{"ClaimDue", testClaimDue},
		{"Relay", testRelay},
		{"Store", testStore},
		{"Polling", testPolling},
		{"DeadLetters", testDeadLetters},
		{"Stats", testStats},
		{"Parking", testParking},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newLedger)
		})
	}
}
