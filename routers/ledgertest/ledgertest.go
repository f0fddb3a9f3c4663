// Package ledgertest is the conformance suite of routers.Ledger: every
// implementation (PostgreSQL, the in-memory demo store) runs it from its own
// tests, so the flows can rely on the same behaviour whichever store they get.
//
//	func TestLedger(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T, now func() time.Time) ledgertest.Ledger { return memory.NewLedger(now) })
//	}
//
// The suite uses nothing but the ledgers' ports: it reads the outbox back
// through Relay.
package ledgertest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// Ledger is every port a ledger implements: what the hub, the dead-letter
// desk, the monitors' figures and the portal's questions need, and the
// plain read of an appeal's history.
type Ledger interface {
	routers.Ledger
	routers.DeadLetterBook
	routers.StatsLedger
	routers.InquiryLedger
	routers.DeadLetterCounter
	routers.FiguresLedger
	routers.LogLedger
	routers.LogReader
	// History returns the events of an appeal in sequence order, read
	// without a lock; none for an unknown appeal.
	History(ctx context.Context, number string) ([]routers.StatusEvent, error)
	// Chain returns the links of an appeal's history chain in sequence
	// order; none for an unknown appeal.
	Chain(ctx context.Context, number string) ([]routers.ChainLink, error)
}

// Epoch is where every test's clock starts: years away from any day the
// suite runs on, so a store that reads the wall clock instead of the one it
// is given fails.
var Epoch = time.Date(2031, 3, 20, 9, 0, 0, 0, routers.Baku)

// clock is a test's clock: it starts at Epoch and every reading is one
// millisecond after the last, so the times a store records are ordered as a
// real clock's would be.
type clock struct{ ticks atomic.Int64 }

func (c *clock) Now() time.Time { return Epoch.Add(time.Duration(c.ticks.Add(1)) * time.Millisecond) }

// advance moves the clock on by d, as days passing would.
func (c *clock) advance(d time.Duration) { c.ticks.Add(d.Milliseconds()) }

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
func Run(t *testing.T, newLedgerAt func(t *testing.T, now func() time.Time) Ledger) {
	t.Helper()
	newLedger := func(t *testing.T) Ledger {
		c := &clock{}
		clocks.Store(t, c)
		t.Cleanup(func() { clocks.Delete(t) })
		return newLedgerAt(t, c.Now)
	}
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) Ledger)
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
		{"DeadLetterCount", testDeadLetterCount},
		{"OperatorActions", testOperatorActions},
		{"Stats", testStats},
		{"Parking", testParking},
		{"DataErrors", testDataErrors},
		{"Reads", testReads},
		{"Oversight", testOversight},
		{"Statutory", testStatutory},
		{"Figures", testFigures},
		{"Chain", testChain},
		{"Log", testLog},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newLedger)
		})
	}
}
