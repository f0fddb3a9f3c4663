package ledgertest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testClaimDue(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("ClaimsDueDeliveriesOldestFirst", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		now := time.Date(2026, 3, 11, 10, 0, 0, 0, routers.Baku)
		pending := func(at time.Time) routers.Delivery {
			return routers.Delivery{State: routers.DeliveryPending, Attempts: 2, NextAttemptAt: at, LastError: "503"}
		}
		appeals := map[string]routers.Delivery{
			"a1": pending(now.Add(-3 * time.Minute)),
			"a2": pending(now), // due at the very instant
			"a3": pending(now.Add(time.Minute)),
			"a4": pending(time.Time{}), // a job is queued already
			"a5": {State: routers.DeliveryDelivered, Attempts: 1, NextAttemptAt: now.Add(-5 * time.Minute)},
			"a6": {State: routers.DeliveryFailed, Attempts: 9, NextAttemptAt: now.Add(-5 * time.Minute)},
		}
		numbers := map[string]string{}
		for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
			district := bil
			if id == "a2" {
				district = nrm
			}
			a := register(t, l, draft(id, district, registeredAt))
			numbers[id] = a.Number
			setDelivery(t, l, a.Number, appeals[id])
		}
		due := comment("c1", routers.Appeal{Number: numbers["a2"], RegisteredAt: registeredAt})
		done := comment("c2", routers.Appeal{Number: numbers["a5"], RegisteredAt: registeredAt})
		addComment(t, l, due)
		addComment(t, l, done)
		setCommentDelivery(t, l, due.ID, pending(now.Add(-2*time.Minute)))
		setCommentDelivery(t, l, done.ID, routers.Delivery{State: routers.DeliveryDelivered, NextAttemptAt: now.Add(-4 * time.Minute)})
		drain(t, l)

		claim := func(at time.Time, limit int) []routers.DueJob {
			t.Helper()
			n, err := l.ClaimDue(t.Context(), at, limit, routers.DueFilter{}, jobMessage)
			require.NoError(t, err)
			claimed := jobs(t, drain(t, l))
			require.Len(t, claimed, n)
			return claimed
		}
		steps := []struct {
			name  string
			at    time.Time
			limit int
			want  []routers.DueJob
		}{
			{"UpToLimit", now, 2, []routers.DueJob{
				{Kind: routers.JobAppeal, Key: numbers["a1"], District: bil},
				{Kind: routers.JobComment, Key: "c1", District: nrm},
			}},
			{"TheRest", now, 10, []routers.DueJob{{Kind: routers.JobAppeal, Key: numbers["a2"], District: nrm}}},
			{"NothingTwice", now, 10, nil},
			{"LaterOnesInTime", now.Add(time.Minute), 10, []routers.DueJob{{Kind: routers.JobAppeal, Key: numbers["a3"], District: bil}}},
		}
		for _, s := range steps {
			require.Equal(t, s.want, claim(s.at, s.limit), s.name)
		}

		// A claim clears the retry time and nothing else.
		a1, err := l.Appeal(t.Context(), numbers["a1"])
		require.NoError(t, err)
		requireDelivery(t, routers.Delivery{State: routers.DeliveryPending, Attempts: 2, LastError: "503"}, a1.Delivery)
		c1, _ := peekComment(t, l, "c1")
		requireDelivery(t, routers.Delivery{State: routers.DeliveryPending, Attempts: 2, LastError: "503"}, c1.Delivery)

		// A failed attempt sets a new retry time, and the delivery comes due again.
		setDelivery(t, l, numbers["a1"], pending(now.Add(2*time.Minute)))
		require.Empty(t, claim(now.Add(time.Minute), 10))
		require.Equal(t, []routers.DueJob{{Kind: routers.JobAppeal, Key: numbers["a1"], District: bil}}, claim(now.Add(2*time.Minute), 10))
	})
}

func testRelay(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("PublishesInCommitOrderUpToLimit", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-1"}, invalid("bad-1")))
		a := register(t, l, draft("req-1", bil, registeredAt))
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-2"}, invalid("bad-2")))
		want := append(append(invalid("bad-1").Messages, registered(a).Messages...), invalid("bad-2").Messages...)

		var (
			got   []routers.OutboxRecord
			calls int
		)
		publish := func(records []routers.OutboxRecord) error {
			calls++
			got = append(got, cloneRecords(records)...)
			return nil
		}
		for _, s := range []struct{ limit, want int }{{4, 4}, {4, 2}, {4, 0}} {
			n, err := l.Relay(t.Context(), s.limit, publish)
			require.NoError(t, err)
			require.Equal(t, s.want, n)
		}
		require.Equal(t, 2, calls, "publish ran for an empty outbox or more than once per relay")
		requireMessages(t, want, got)
		for i := 1; i < len(got); i++ {
			require.Greater(t, got[i].ID, got[i-1].ID, "record IDs must grow in commit order")
		}
	})

	t.Run("KeepsRecordsExactly", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := []routers.OutboxMessage{
			{Topic: "status", UUID: stableUUID("1"), Payload: []byte("{ \"b\":1,\n  \"a\": \"Ağdam\" }"),
				Metadata: map[string]string{"request_id": "r-1", "appeal": "AZ-BIL-2026-000001", "empty": ""}},
			{Topic: "raw", UUID: stableUUID("2"), Payload: []byte{0x00, 0xff, 0x10, '\n'}},
		}
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "r-1"}, routers.Effects{Messages: want}))
		requireMessages(t, want, drain(t, l))
	})

	t.Run("FailedPublishKeepsRecords", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := register(t, l, draft("req-1", bil, registeredAt))
		errBroker := errors.New("broker away")
		var failed []routers.OutboxRecord
		_, err := l.Relay(t.Context(), 10, func(records []routers.OutboxRecord) error {
			failed = cloneRecords(records)
			return errBroker
		})
		require.ErrorIs(t, err, errBroker)
		got := drain(t, l)
		require.Equal(t, failed, got, "the retry must publish the same records")
		requireMessages(t, registered(a).Messages, got)
		require.Empty(t, drain(t, l))
	})

	t.Run("EmptyOutboxPublishesNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		n, err := l.Relay(t.Context(), 10, func([]routers.OutboxRecord) error {
			return errors.New("publish called for an empty outbox")
		})
		require.NoError(t, err)
		require.Zero(t, n)
	})

	// A second relay started while the first publishes must wait for it or
	// give up; it must never publish beside it.
	t.Run("OneRelayAtATime", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		var want []routers.OutboxMessage
		for _, id := range []string{"bad-1", "bad-2", "bad-3"} {
			require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: id}, invalid(id)))
			want = append(want, invalid(id).Messages...)
		}

		var (
			mu        sync.Mutex
			published []routers.OutboxRecord
			running   atomic.Int32
			overlap   atomic.Bool
		)
		record := func(records []routers.OutboxRecord) func() {
			if running.Add(1) > 1 {
				overlap.Store(true)
			}
			mu.Lock()
			published = append(published, cloneRecords(records)...)
			mu.Unlock()
			return func() { running.Add(-1) }
		}
		second := make(chan error, 1)
		_, err := l.Relay(t.Context(), 3, func(records []routers.OutboxRecord) error {
			defer record(records)()
			go func() {
				_, err := l.Relay(t.Context(), 3, func(records []routers.OutboxRecord) error {
					defer record(records)()
					return nil
				})
				second <- err
			}()
			// A relay that waits for the lock is still waiting when this
			// gives up; one that publishes beside this one has done so.
			select {
			case err := <-second:
				second <- err
			case <-time.After(200 * time.Millisecond):
			}
			return nil
		})
		require.NoError(t, err)
		require.NoError(t, <-second)
		require.False(t, overlap.Load(), "two relays published at once")
		mu.Lock()
		got := append(published, drain(t, l)...)
		mu.Unlock()
		requireMessages(t, want, got)
	})
}
