package ledgertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testRegister(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("StoresAppealWithEffects", func(t *testing.T) {
		t.Parallel()
		withPerson := draft("req-person", bil, registeredAt)
		withPerson.Person = json.RawMessage(`{"name":"Əli","surname":"Məmmədov","id_card":{"series":"AA","number":"1234567"}}`)
		due := draft("req-due", bil, registeredAt)
		due.Delivery = routers.Delivery{State: routers.DeliveryPending, Attempts: 1, NextAttemptAt: registeredAt.Add(time.Minute), LastError: "district down"}
		cases := []struct {
			name  string
			draft routers.Appeal
		}{
			{"WithoutPerson", draft("req-1", bil, registeredAt)},
			{"WithPerson", withPerson},
			{"WithRetryTime", due},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				l := newLedger(t)
				var seen routers.Appeal
				got, err := l.Register(t.Context(), tc.draft, nil, numberOf(tc.draft), func(a routers.Appeal) routers.Effects {
					seen = a
					return registered(a)
				})
				require.NoError(t, err)

				want := tc.draft
				want.Number = number(bil, 2026, 1)
				requireAppeal(t, want, got)
				requireAppeal(t, want, seen) // effects see the numbered appeal
				stored, err := l.Appeal(t.Context(), want.Number)
				require.NoError(t, err)
				requireAppeal(t, want, stored)
				requireEvents(t, registered(want).Events, history(t, l, want.Number))
				requireMessages(t, registered(want).Messages, drain(t, l))
			})
		}
	})

	t.Run("NumbersPerDistrictAndBakuYear", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		steps := []struct {
			requestID string
			district  string
			at        time.Time
			want      string
		}{
			// 23:30 on New Year's Eve in Baku is still 2025 ...
			{"r1", bil, time.Date(2025, 12, 31, 19, 30, 0, 0, time.UTC), number(bil, 2025, 1)},
			// ... and 00:30 is 2026, though it is still 2025 in UTC.
			{"r2", bil, time.Date(2025, 12, 31, 20, 30, 0, 0, time.UTC), number(bil, 2026, 1)},
			{"r3", bil, registeredAt, number(bil, 2026, 2)},
			{"r4", nrm, registeredAt, number(nrm, 2026, 1)},
			{"r5", bil, time.Date(2025, 6, 1, 12, 0, 0, 0, routers.Baku), number(bil, 2025, 2)},
			{"r6", nrm, registeredAt, number(nrm, 2026, 2)},
			{"r7", bil, registeredAt, number(bil, 2026, 3)},
		}
		for _, s := range steps {
			a := register(t, l, draft(s.requestID, s.district, s.at))
			require.Equal(t, s.want, a.Number, s.requestID)
		}
	})

	t.Run("DuplicateLeavesNoTrace", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		first := registerDrained(t, l, draft("req-1", bil, registeredAt))

		again := draft("req-1", bil, registeredAt)
		again.Service = "other"
		_, err := l.Register(t.Context(), again, nil, numberOf(again), registered)
		require.ErrorIs(t, err, routers.ErrDuplicate)

		stored, err := l.Appeal(t.Context(), first.Number)
		require.NoError(t, err)
		requireAppeal(t, first, stored)
		_, err = l.Appeal(t.Context(), number(bil, 2026, 2))
		require.ErrorIs(t, err, routers.ErrNotFound)
		require.Len(t, history(t, l, first.Number), 1)
		require.Empty(t, drain(t, l))

		next := register(t, l, draft("req-2", bil, registeredAt))
		require.Equal(t, number(bil, 2026, 2), next.Number, "the duplicate consumed a number")
	})

	t.Run("ConcurrentNumbersAreGapFree", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		counts := map[string]int{bil: 50, nrm: 10}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			numbers = map[string][]string{}
			errs    []error
		)
		for district, n := range counts {
			for i := range n {
				wg.Go(func() {
					d := draft(fmt.Sprintf("%s-req-%d", district, i), district, registeredAt)
					a, err := l.Register(t.Context(), d, nil, numberOf(d), registered)
					mu.Lock()
					defer mu.Unlock()
					errs = append(errs, err)
					numbers[district] = append(numbers[district], a.Number)
				})
			}
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		for district, n := range counts {
			want := make([]string, n)
			for i, seq := range upTo(n) {
				want[i] = number(district, 2026, seq)
			}
			got := numbers[district]
			slices.Sort(got)
			require.Equal(t, want, got, district)
		}
		require.Len(t, drain(t, l), 2*(50+10), "every registration commits its two messages")
	})

	t.Run("BookingHonoursCapacity", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		book := func(requestID, official, date string) (routers.Appeal, error) {
			d := draft(requestID, bil, registeredAt)
			return l.Register(t.Context(), d, &routers.Booking{OfficialID: official, Date: date, Capacity: 2}, numberOf(d), registered)
		}
		steps := []struct {
			requestID, official, date string
			wantErr                   error
			wantNumber                int
		}{
			{"r1", "off-1", "2026-03-20", nil, 1},
			{"r2", "off-1", "2026-03-20", nil, 2},
			{"r3", "off-1", "2026-03-20", routers.ErrReceptionFull, 0},
			{"r1", "off-1", "2026-03-20", routers.ErrDuplicate, 0}, // the ID is checked before the day
			{"r3", "off-1", "2026-03-21", nil, 3},                  // the failed booking claimed neither ID nor number
			{"r4", "off-2", "2026-03-20", nil, 4},
			{"r5", "off-1", "2026-03-20", routers.ErrReceptionFull, 0},
			{"r5", "off-1", "2026-03-21", nil, 5},
		}
		for _, s := range steps {
			a, err := book(s.requestID, s.official, s.date)
			if s.wantErr != nil {
				require.ErrorIs(t, err, s.wantErr, s.requestID)
				continue
			}
			require.NoError(t, err, s.requestID)
			require.Equal(t, number(bil, 2026, s.wantNumber), a.Number, s.requestID)
		}
		_, err := l.Appeal(t.Context(), number(bil, 2026, 6))
		require.ErrorIs(t, err, routers.ErrNotFound)
		require.Len(t, drain(t, l), 2*5, "a refused booking committed messages")
	})

	t.Run("ConcurrentBookingsNeverOverbook", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		const capacity, tries = 5, 20
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			numbers []string
			full    int
			errs    []error
		)
		for i := range tries {
			wg.Go(func() {
				d := draft(fmt.Sprintf("req-%d", i), bil, registeredAt)
				a, err := l.Register(t.Context(), d, &routers.Booking{OfficialID: "off-1", Date: "2026-03-20", Capacity: capacity}, numberOf(d), registered)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, routers.ErrReceptionFull):
					full++
				case err != nil:
					errs = append(errs, err)
				default:
					numbers = append(numbers, a.Number)
				}
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		require.Equal(t, tries-capacity, full)
		slices.Sort(numbers)
		want := make([]string, capacity)
		for i, seq := range upTo(capacity) {
			want[i] = number(bil, 2026, seq)
		}
		require.Equal(t, want, numbers, "refused bookings consumed numbers")
		require.Equal(t, number(bil, 2026, capacity+1), register(t, l, draft("unbooked", bil, registeredAt)).Number)
	})
}
