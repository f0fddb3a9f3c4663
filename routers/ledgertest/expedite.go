package ledgertest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testParking(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("FilterAndExpedite", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		now := time.Date(2026, 3, 11, 10, 0, 0, 0, routers.Baku)
		numbers := map[string][]string{}
		for i, district := range []string{bil, bil, nrm, nrm} {
			a := register(t, l, draft(string(rune('a'+i))+"-park", district, registeredAt))
			numbers[district] = append(numbers[district], a.Number)
			// bil's first is due; bil's second is due only in an hour; nrm's both due.
			next := now.Add(-time.Minute)
			if i == 1 {
				next = now.Add(time.Hour)
			}
			setDelivery(t, l, a.Number, routers.Delivery{State: routers.DeliveryPending, Attempts: 3, NextAttemptAt: next})
		}
		c := comment("comment-park", routers.Appeal{Number: numbers[bil][0], RegisteredAt: registeredAt})
		addComment(t, l, c)
		setCommentDelivery(t, l, c.ID, routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: now.Add(time.Hour)})
		drain(t, l)

		claim := func(filter routers.DueFilter) []routers.DueJob {
			t.Helper()
			_, err := l.ClaimDue(t.Context(), now, 10, filter, jobMessage)
			require.NoError(t, err)
			return jobs(t, drain(t, l))
		}
		require.Empty(t, claim(routers.DueFilter{Skip: []string{bil, nrm}}), "both skipped")
		got := claim(routers.DueFilter{Skip: []string{nrm}})
		require.Equal(t, []routers.DueJob{{Kind: routers.JobAppeal, Key: numbers[bil][0], District: bil}}, got, "only bil's due one")
		got = claim(routers.DueFilter{Only: nrm})
		require.Len(t, got, 2)
		for _, j := range got {
			require.Equal(t, nrm, j.District)
		}

		moved, err := l.Expedite(t.Context(), bil, now)
		require.NoError(t, err)
		require.Equal(t, 2, moved, "bil's appeal due in an hour and its comment")
		got = claim(routers.DueFilter{})
		require.ElementsMatch(t, []routers.DueJob{
			{Kind: routers.JobAppeal, Key: numbers[bil][1], District: bil},
			{Kind: routers.JobComment, Key: c.ID, District: bil},
		}, got)
		moved, err = l.Expedite(t.Context(), bil, now)
		require.NoError(t, err)
		require.Zero(t, moved, "nothing pending in the future any more")
	})

	t.Run("ExpediteUnenriched", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		now := time.Date(2026, 3, 11, 10, 0, 0, 0, routers.Baku)
		person := json.RawMessage(`{"fin": "5XK3P2M"}`)
		cases := []struct {
			name     string
			person   json.RawMessage
			delivery routers.Delivery
			moved    bool
		}{
			{"WaitingForTheRegistry", nil, routers.Delivery{State: routers.DeliveryPending, Attempts: 4, NextAttemptAt: now.Add(time.Hour)}, true},
			{"EnrichedWaitingForItsDistrict", person, routers.Delivery{State: routers.DeliveryPending, Attempts: 4, NextAttemptAt: now.Add(time.Hour)}, false},
			{"AlreadyDue", nil, routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: now.Add(-time.Minute)}, false},
			{"JobOut", nil, routers.Delivery{State: routers.DeliveryPending}, false},
			{"Failed", nil, routers.Delivery{State: routers.DeliveryFailed, Attempts: 9}, false},
		}
		numbers := make([]string, len(cases))
		for i, tc := range cases {
			a := registerDrained(t, l, draft(fmt.Sprintf("unenriched-%d", i), []string{bil, nrm}[i%2], registeredAt))
			numbers[i] = a.Number
			require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
				a.Person, a.Delivery = tc.person, tc.delivery
				return routers.Effects{}, nil
			}))
		}
		moved, err := l.ExpediteUnenriched(t.Context(), now)
		require.NoError(t, err)
		require.Equal(t, 1, moved)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a, err := l.Appeal(t.Context(), numbers[i])
				require.NoError(t, err)
				want := tc.delivery
				if tc.moved {
					want.NextAttemptAt = now
				}
				requireDelivery(t, want, a.Delivery)
			})
		}
		moved, err = l.ExpediteUnenriched(t.Context(), now)
		require.NoError(t, err)
		require.Zero(t, moved, "nothing waits in the future any more")
	})
}
