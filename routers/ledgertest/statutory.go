package ledgertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// testStatutory: an update keeps an appeal's extended deadline, its
// extension and forwarding, and the district it was forwarded to, which
// every question by district then answers with.
func testStatutory(t *testing.T, newLedger func(*testing.T) Ledger) {
	extendedAt := time.Date(2026, 3, 12, 10, 5, 1, 250000000, routers.Baku)
	forwardedAt := time.Date(2026, 3, 13, 16, 45, 0, 987654000, time.UTC)

	t.Run("UpdateKeepsExtensionAndForwarding", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-stat-1", bil, registeredAt))
		steps := []struct {
			name   string
			change func(*routers.Appeal)
		}{
			{"Extended", func(a *routers.Appeal) {
				a.Deadline = "2026-04-21"
				a.Extended, a.ExtendedAt, a.ExtensionReason = true, extendedAt, "Yerində əlavə yoxlama\nlazımdır"
			}},
			{"ForwardedToAnotherBody", func(a *routers.Appeal) {
				a.ForwardedTo, a.ForwardedBy, a.ForwardedAt, a.ForwardedLate = "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi", bil, forwardedAt, true
			}},
			{"ForwardedOnTheHub", func(a *routers.Appeal) {
				a.District, a.ForwardedTo, a.ForwardedLate = nrm, nrm, false
				a.Forwarders = []string{bil}
				a.DistrictRef = ""
			}},
			{"ForwardedOnAgain", func(a *routers.Appeal) {
				a.District, a.ForwardedTo, a.ForwardedBy = "AZ-SAT", "AZ-SAT", nrm
				a.Forwarders = append(a.Forwarders, nrm)
			}},
		}
		for _, s := range steps {
			var seen routers.Appeal
			require.NoError(t, l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
				seen = *a
				s.change(a)
				return routers.Effects{}, nil
			}), s.name)
			requireAppeal(t, want, seen) // fn sees the stored appeal
			s.change(&want)
			got, err := l.Appeal(t.Context(), want.Number)
			require.NoError(t, err, s.name)
			requireAppeal(t, want, got)
		}
		// The forwarders handed out are copies: changing them changes nothing stored.
		require.ErrorIs(t, l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Forwarders[0] = "AZ-XXX"
			return routers.Effects{}, errRollback
		}), errRollback)
		got, err := l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		got.Forwarders[1] = "AZ-YYY"
		got, err = l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, got)
	})

	t.Run("ForwardedAppealBelongsToItsNewDistrict", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-stat-2", bil, time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)))
		due := clockOf(t).Now().Add(-time.Minute)
		require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Status, cur.Sequence = routers.StatusForwarded, 2
			cur.District, cur.ForwardedTo, cur.ForwardedBy, cur.Forwarders = nrm, nrm, bil, []string{bil}
			cur.Delivery = routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: due}
			return routers.Effects{}, nil
		}))

		stats, err := l.DistrictStats(t.Context(), "2026-12-01")
		require.NoError(t, err)
		require.Equal(t, map[string]routers.DistrictStats{nrm: {Open: 1, PendingDelivery: 1}}, stats,
			"awaiting its new district, the appeal is open there and nowhere else")

		n, err := l.ClaimDue(t.Context(), clockOf(t).Now(), 10, routers.DueFilter{Only: bil}, jobMessage)
		require.NoError(t, err)
		require.Zero(t, n, "no longer the old district's delivery")
		n, err = l.ClaimDue(t.Context(), clockOf(t).Now(), 10, routers.DueFilter{Only: nrm}, jobMessage)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, []routers.DueJob{{Kind: routers.JobAppeal, Key: a.Number, District: nrm}}, jobs(t, drain(t, l)))

		setDelivery(t, l, a.Number, routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1})
		stale, err := l.StaleAppeals(t.Context(), nrm, clockOf(t).Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []string{a.Number}, numbers(stale))
		stale, err = l.StaleAppeals(t.Context(), bil, clockOf(t).Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Empty(t, stale)

		// Forwarded to another body, the appeal is no longer open.
		require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.ForwardedTo, cur.ForwardedBy = "Nazirlik", nrm
			return routers.Effects{}, nil
		}))
		stats, err = l.DistrictStats(t.Context(), "2026-12-01")
		require.NoError(t, err)
		require.Empty(t, stats)
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name   string
			change func(*routers.Appeal)
		}{
			{"ReasonWithNUL", func(a *routers.Appeal) { a.Extended, a.ExtensionReason = true, "yoxlama\x00" }},
			{"ForwardedToNotUTF8", func(a *routers.Appeal) { a.ForwardedTo = "Nazirlik \xff" }},
			{"ForwardedByWithNUL", func(a *routers.Appeal) { a.ForwardedBy = "AZ-\x00" }},
			{"ForwarderWithNUL", func(a *routers.Appeal) { a.Forwarders = []string{bil, "AZ-\x00"} }},
			{"DistrictWithNUL", func(a *routers.Appeal) { a.District = "AZ-\x00" }},
			{"ImpossibleDeadline", func(a *routers.Appeal) { a.Deadline = "2026-04-31" }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				l := newLedger(t)
				a := registerDrained(t, l, draft("req-stat-3", bil, registeredAt))
				requireRefused(t, l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
					tc.change(cur)
					return routers.Effects{}, nil
				}))
				got, err := l.Appeal(t.Context(), a.Number)
				require.NoError(t, err)
				requireAppeal(t, a, got)
			})
		}
	})
}
