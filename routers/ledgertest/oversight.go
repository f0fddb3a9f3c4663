package ledgertest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

const topicOversight = "oversight"

// crossingMessage is the event func of ClaimCrossings: it writes the
// crossing into the payload so that the suite can read the claims back
// from the outbox.
func crossingMessage(c routers.Crossing) routers.OutboxMessage {
	payload, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings only
	}
	id := uuid.NewString()
	return routers.OutboxMessage{Topic: topicOversight, UUID: id, Payload: payload, Metadata: map[string]string{"message_id": id}}
}

// crossingsIn reads the claims back from the published oversight messages.
func crossingsIn(t *testing.T, records []routers.OutboxRecord) []routers.Crossing {
	t.Helper()
	var out []routers.Crossing
	for _, r := range records {
		require.Equal(t, topicOversight, r.Topic)
		var c routers.Crossing
		require.NoError(t, json.Unmarshal(r.Payload, &c))
		out = append(out, c)
	}
	return out
}

// watched registers an appeal of district due on deadline and moves it to
// status, emptying the outbox.
func watched(t *testing.T, l Ledger, id, district, deadline string, status routers.Status) routers.Appeal {
	t.Helper()
	d := draft(id, district, registeredAt)
	d.Deadline = deadline
	a := registerDrained(t, l, d)
	if status != routers.StatusRegistered {
		require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Status = status
			return routers.Effects{}, nil
		}))
		a.Status = status
	}
	return a
}

// requireCrossings compares crossings in order; none and an empty list are the same.
func requireCrossings(t *testing.T, want, got []routers.Crossing, msgAndArgs ...any) {
	t.Helper()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

func crossing(kind routers.OversightKind, a routers.Appeal) routers.Crossing {
	return routers.Crossing{Kind: kind, AppealNumber: a.Number, District: a.District, Service: a.Service, Status: a.Status, Deadline: a.Deadline}
}

func testOversight(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("ClaimsEachCrossingOnce", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		overdue := watched(t, l, "o1", bil, "2026-03-18", routers.StatusRegistered)
		longOverdue := watched(t, l, "o2", nrm, "2026-03-10", routers.StatusInProgress)
		dueToday := watched(t, l, "d1", bil, "2026-03-19", routers.StatusDelivered)
		dueLast := watched(t, l, "d2", bil, "2026-03-24", routers.StatusInProgress)
		later := watched(t, l, "n1", nrm, "2026-03-25", routers.StatusRegistered)
		for _, status := range []routers.Status{routers.StatusAnswered, routers.StatusRejected, routers.StatusForwarded, routers.StatusClosed} {
			watched(t, l, "closed-"+string(status), bil, "2026-03-02", status) // answered: never watched
		}

		claim := func(today, dueSoonBy string) []routers.Crossing {
			t.Helper()
			claimed, err := l.ClaimCrossings(t.Context(), today, dueSoonBy, 100, crossingMessage)
			require.NoError(t, err)
			requireCrossings(t, claimed, crossingsIn(t, drain(t, l)), "each crossing claimed is committed as its message, in the same order")
			return claimed
		}
		require.Equal(t, []routers.Crossing{
			crossing(routers.OversightOverdue, longOverdue),
			crossing(routers.OversightOverdue, overdue), // never claimed due soon: overdue only
			crossing(routers.OversightDueSoon, dueToday),
			crossing(routers.OversightDueSoon, dueLast),
		}, claim("2026-03-19", "2026-03-24"), "oldest deadline first; a deadline today or on the due-soon date is due soon")
		require.Empty(t, claim("2026-03-19", "2026-03-24"), "claimed once")

		require.Equal(t, []routers.Crossing{
			crossing(routers.OversightOverdue, dueToday),
			crossing(routers.OversightDueSoon, later),
		}, claim("2026-03-20", "2026-03-25"), "the next day: due soon becomes overdue, and the next due soon")
		require.Empty(t, claim("2026-03-20", "2026-03-25"))

		require.Equal(t, []routers.Crossing{
			crossing(routers.OversightOverdue, dueLast),
			crossing(routers.OversightOverdue, later),
		}, claim("2026-04-01", "2026-04-06"))
		require.Empty(t, claim("2026-04-01", "2026-04-06"))
		require.Empty(t, claim("2026-03-19", "2026-03-24"), "an overdue appeal is not due soon again")
	})

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		var want []routers.Crossing
		for i, deadline := range []string{"2026-03-12", "2026-03-05", "2026-03-13", "2026-03-11", "2026-03-06"} {
			want = append(want, crossing(routers.OversightOverdue, watched(t, l, fmt.Sprintf("l%d", i), bil, deadline, routers.StatusDelivered)))
		}
		var got []routers.Crossing
		for _, n := range []int{2, 2, 1, 0} {
			claimed, err := l.ClaimCrossings(t.Context(), "2026-03-19", "2026-03-24", 2, crossingMessage)
			require.NoError(t, err)
			require.Len(t, claimed, n)
			requireCrossings(t, claimed, crossingsIn(t, drain(t, l)))
			got = append(got, claimed...)
		}
		byDeadline := []routers.Crossing{want[1], want[4], want[3], want[0], want[2]}
		require.Equal(t, byDeadline, got, "batch after batch, oldest deadline first")
	})

	t.Run("RefusedClaimCommitsNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := watched(t, l, "r1", bil, "2026-03-18", routers.StatusRegistered)
		_, err := l.ClaimCrossings(t.Context(), "2026-03-19", "2026-03-24", 10, func(c routers.Crossing) routers.OutboxMessage {
			m := crossingMessage(c)
			m.Topic = "over\x00sight"
			return m
		})
		require.True(t, routers.IsPermanent(err), "%v", err)
		require.ErrorIs(t, err, routers.ErrDataRefused)
		require.Empty(t, drain(t, l))
		claimed, err := l.ClaimCrossings(t.Context(), "2026-03-19", "2026-03-24", 10, crossingMessage)
		require.NoError(t, err)
		require.Equal(t, []routers.Crossing{crossing(routers.OversightOverdue, a)}, claimed, "the refused claim left the crossing unclaimed")
		requireCrossings(t, claimed, crossingsIn(t, drain(t, l)))

		_, err = l.ClaimCrossings(t.Context(), "2026-02-30", "2026-03-24", 10, crossingMessage)
		require.True(t, routers.IsPermanent(err), "a date that is none: %v", err)
	})

	// Several hubs sweep at once: whichever claims a crossing, it is
	// claimed, and its event committed, once.
	t.Run("ConcurrentClaimersNeverEmitTwice", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		const appeals, claimers = 40, 8
		want := map[string]routers.OversightKind{}
		for i := range appeals {
			deadline, kind := "2026-03-18", routers.OversightOverdue
			if i%2 == 1 {
				deadline, kind = "2026-03-23", routers.OversightDueSoon
			}
			district := []string{bil, nrm}[i%3%2]
			a := watched(t, l, fmt.Sprintf("c%02d", i), district, deadline, routers.StatusDelivered)
			want[a.Number] = kind
		}
		var (
			mu      sync.Mutex
			claimed []routers.Crossing
			wg      sync.WaitGroup
			start   = make(chan struct{})
		)
		for range claimers {
			wg.Go(func() {
				<-start
				for {
					got, err := l.ClaimCrossings(t.Context(), "2026-03-19", "2026-03-24", 3, crossingMessage)
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					mu.Lock()
					claimed = append(claimed, got...)
					mu.Unlock()
					if len(got) == 0 {
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
		// A claimer that found every left crossing locked by another stops
		// early; the other commits them. Nothing may be left.
		left, err := l.ClaimCrossings(t.Context(), "2026-03-19", "2026-03-24", 100, crossingMessage)
		require.NoError(t, err)
		require.Empty(t, left)

		got := map[string]routers.OversightKind{}
		for _, c := range claimed {
			_, twice := got[c.AppealNumber]
			require.False(t, twice, "%s claimed twice", c.AppealNumber)
			got[c.AppealNumber] = c.Kind
		}
		require.Equal(t, want, got)
		published := map[string]routers.OversightKind{}
		for _, c := range crossingsIn(t, drain(t, l)) {
			_, twice := published[c.AppealNumber]
			require.False(t, twice, "%s's event committed twice", c.AppealNumber)
			published[c.AppealNumber] = c.Kind
		}
		require.Equal(t, want, published, "one event committed per crossing")
	})
}
