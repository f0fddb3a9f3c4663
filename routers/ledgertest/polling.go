package ledgertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testPolling(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("PollCursorRoundTrip", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		at, err := l.PollCursor(ctx, "AZ-BIL")
		require.NoError(t, err)
		require.True(t, at.IsZero(), "a district never polled has no cursor")

		first := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
		require.NoError(t, l.SetPollCursor(ctx, "AZ-BIL", first))
		require.NoError(t, l.SetPollCursor(ctx, "AZ-SAT", first.Add(time.Hour)))
		second := first.Add(time.Minute)
		require.NoError(t, l.SetPollCursor(ctx, "AZ-BIL", second))

		at, err = l.PollCursor(ctx, "AZ-BIL")
		require.NoError(t, err)
		requireTime(t, second, at, "AZ-BIL cursor")
		at, err = l.PollCursor(ctx, "AZ-SAT")
		require.NoError(t, err)
		requireTime(t, first.Add(time.Hour), at, "AZ-SAT cursor")
	})

	t.Run("StaleAppeals", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		at := time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)
		delivered := routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1}

		oldest := register(t, l, draft("req-stale-1", "AZ-BIL", at))
		setDelivery(t, l, oldest.Number, delivered)
		closed := register(t, l, draft("req-stale-2", "AZ-BIL", at))
		require.NoError(t, l.UpdateAppeal(ctx, closed.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Delivery, a.Status = delivered, routers.StatusClosed
			return routers.Effects{}, nil
		}))
		pending := register(t, l, draft("req-stale-3", "AZ-BIL", at))
		other := register(t, l, draft("req-stale-4", "AZ-SAT", at))
		setDelivery(t, l, other.Number, delivered)
		newer := register(t, l, draft("req-stale-5", "AZ-BIL", at))
		setDelivery(t, l, newer.Number, delivered)

		cutoff := clockOf(t).Now().Add(time.Minute)
		stale, err := l.StaleAppeals(ctx, "AZ-BIL", cutoff, 10)
		require.NoError(t, err)
		require.Equal(t, []string{oldest.Number, newer.Number}, numbers(stale),
			"delivered, not closed, this district only, least recently changed first; not %s (closed) nor %s (pending)", closed.Number, pending.Number)

		stale, err = l.StaleAppeals(ctx, "AZ-BIL", cutoff, 1)
		require.NoError(t, err)
		require.Equal(t, []string{oldest.Number}, numbers(stale), "limit")

		// Checking an appeal (an UpdateAppeal that changes nothing) moves it to the back.
		require.NoError(t, l.UpdateAppeal(ctx, oldest.Number, func(*routers.Appeal) (routers.Effects, error) { return routers.Effects{}, nil }))
		stale, err = l.StaleAppeals(ctx, "AZ-BIL", clockOf(t).Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []string{newer.Number, oldest.Number}, numbers(stale))

		stale, err = l.StaleAppeals(ctx, "AZ-BIL", clockOf(t).Now().Add(-time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, stale, "nothing was last changed an hour ago")
	})
}

func numbers(appeals []routers.Appeal) []string {
	out := make([]string, len(appeals))
	for i, a := range appeals {
		out[i] = a.Number
	}
	return out
}
