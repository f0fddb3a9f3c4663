// Package ledgertest is the conformance suite of routers.Ledger: every
// implementation (PostgreSQL, the in-memory demo store) runs it from its own
// tests, so the flows can rely on the same behaviour whichever store they get.
//
//	func TestLedger(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) routers.Ledger { return memory.NewLedger() })
//	}
//
// The suite uses nothing but the port: it reads comments back through
// UpdateComment with a callback that rolls back, and the outbox through Relay.
package ledgertest

import (
	"testing"

	"github.com/korpu-az/korpu/routers"
)

// Run runs every conformance test against the ledgers newLedger makes. Each
// test calls newLedger once and must get a fresh, empty store of its own;
// tests run in parallel.
func Run(t *testing.T, newLedger func(t *testing.T) routers.Ledger) {
	t.Helper()
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
		{"DataErrors", testDataErrors},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, newLedger)
		})
	}
}
