package routers_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

// downLedger is a ledger whose registrations fail as a database that is
// restarting does: transiently, every time.
type downLedger struct {
	ledgertest.Ledger
	registers atomic.Int32
}

func (l *downLedger) Register(context.Context, routers.Appeal, *routers.Booking, func(int) string, func(routers.Appeal) routers.Effects) (routers.Appeal, error) {
	l.registers.Add(1)
	return routers.Appeal{}, errors.New("database restarting")
}

// waitLetter waits for the first open dead letter, longer than
// waitDeadLetter: each delivery of a failing message takes the Retry
// middleware's 1.4 s.
func waitLetter(t *testing.T, h *harness) routers.DeadLetter {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		letters, err := h.ledger.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 1)
		require.NoError(t, err)
		if len(letters) > 0 {
			return letters[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no dead letter")
	return routers.DeadLetter{}
}

// TestDeliveryLimit: a message failing transiently on the last delivery its
// queue allows goes to the poison queue with the hub's reason, counted by
// the broker's x-delivery-count or, where the broker counts no nacks
// (RabbitMQ 4.3+, GoChannel), by the hub itself.
func TestDeliveryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		brokerCount string // x-delivery-count of the first delivery seen
		deliveries  int    // the hub handles it this often
	}{
		{name: "CountedByTheHub", deliveries: 3},
		{name: "CountedByTheBroker", brokerCount: "1", deliveries: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ledger *downLedger
			h := newHarnessWith(t, harnessOptions{deliveryLimit: 3, ledger: func(_ *testing.T, now func() time.Time) ledgertest.Ledger {
				ledger = &downLedger{Ledger: memory.NewLedger(now)}
				return ledger
			}})
			body, _ := h.body("request-appeal.json", nil)
			msg := message.NewMessage(uuid.NewString(), body)
			msg.Metadata.Set(routers.SignatureHeader, routers.Sign(signingKey, body))
			if tc.brokerCount != "" {
				msg.Metadata.Set(routers.DeliveryCountHeader, tc.brokerCount)
			}
			h.publishMsg(msg)
			letter := waitLetter(t, h)
			require.Equal(t, routers.DeadPoison, letter.Kind)
			require.Equal(t, topics.Requests, letter.Queue)
			require.Contains(t, letter.Error, "delivered 3 times; last failure: ")
			require.Contains(t, letter.Error, "database restarting")
			require.NotContains(t, letter.Headers, routers.DeliveryCountHeader, "a replay starts its count afresh")
			require.Equal(t, int32(4*tc.deliveries), ledger.registers.Load(), "4 attempts (Retry) per delivery")
		})
	}
}

// TestBrokerDeadLetter: what the broker dead-lettered to the poison queue
// (delivery limit reached with no failure of the hub's) is filed under its
// own queue with the broker's reason, without the broker's headers.
func TestBrokerDeadLetter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	msg := message.NewMessage(uuid.NewString(), []byte(`{"id":"r-1"}`))
	msg.Metadata = message.Metadata{
		"x-first-death-reason": "delivery_limit", "x-first-death-queue": topics.Requests, "x-first-death-exchange": "",
		"x-death": `[{"count":1,"queue":"` + topics.Requests + `","reason":"delivery_limit"}]`, "x-portal": "kept",
	}
	require.NoError(t, h.pubsub.Publish(topics.Poison, msg))
	letter := waitLetter(t, h)
	require.Equal(t, topics.Requests, letter.Queue)
	require.Contains(t, letter.Error, "dead-lettered by the broker from "+topics.Requests+": delivered more times than its delivery limit")
	require.Equal(t, map[string]string{"x-portal": "kept"}, letter.Headers)
}

// TestLongestHold: with the harness's budgets (district 10 s, registry
// 5 s) a delivery is held at most 4 attempts of 20 s, 1.4 s of retry waits
// and 30 s before the nack.
func TestLongestHold(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.Equal(t, 4*20*time.Second+1400*time.Millisecond+30*time.Second, h.hub.LongestHold())
}
