package ledgertest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testComment(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("AddStoresCommentWithEffects", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		c := comment("c-1", a)
		c.Delivery.NextAttemptAt = c.SubmittedAt
		require.NoError(t, l.AddComment(t.Context(), c, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c)}}))
		requireMessages(t, []routers.OutboxMessage{commentMessage(c)}, drain(t, l))
		got, gotAppeal := peekComment(t, l, c.ID)
		requireComment(t, c, got)
		requireAppeal(t, a, gotAppeal)
	})

	t.Run("UpdatePersistsCommentAndAppeal", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-1", bil, registeredAt))
		c := comment("c-1", want)
		addComment(t, l, c)

		var effects routers.Effects
		err := l.UpdateComment(t.Context(), c.ID, func(cp *routers.Comment, ap *routers.Appeal) (routers.Effects, error) {
			cp.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 2, LastError: "timeout once"}
			ap.Status = routers.StatusDelivered
			ap.Sequence = 2
			ap.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1}
			ap.DistrictRef = "BIL/2026/77"
			effects = emit(event(*ap, 2, routers.StatusCommented))
			return effects, nil
		})
		require.NoError(t, err)

		c.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 2, LastError: "timeout once"}
		want.Status = routers.StatusDelivered
		want.Sequence = 2
		want.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1}
		want.DistrictRef = "BIL/2026/77"
		got, gotAppeal := peekComment(t, l, c.ID)
		requireComment(t, c, got)
		requireAppeal(t, want, gotAppeal)
		stored, err := l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, stored)
		requireEvents(t, append(registered(want).Events, effects.Events...), history(t, l, want.Number))
		requireMessages(t, effects.Messages, drain(t, l))
	})

	t.Run("UpdateErrorCommitsNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-1", bil, registeredAt))
		c := comment("c-1", want)
		addComment(t, l, c)
		errDistrict := errors.New("district says no")
		err := l.UpdateComment(t.Context(), c.ID, func(cp *routers.Comment, ap *routers.Appeal) (routers.Effects, error) {
			cp.Delivery = routers.Delivery{State: routers.DeliveryFailed, Attempts: 5, LastError: "gone"}
			ap.Sequence = 2
			ap.DistrictRef = "ref"
			return emit(event(*ap, 2, routers.StatusCommented)), errDistrict
		})
		require.ErrorIs(t, err, errDistrict)
		got, gotAppeal := peekComment(t, l, c.ID)
		requireComment(t, c, got)
		requireAppeal(t, want, gotAppeal)
		require.Equal(t, []int{1}, sequences(history(t, l, want.Number)))
		require.Empty(t, drain(t, l))
	})

	// Comment and History are plain reads: they find what was stored, say
	// ErrNotFound (or nothing) alike for what was not, and change nothing,
	// not even the appeal's last change that reconciliation goes by.
	t.Run("PlainReads", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		first := registerDrained(t, l, draft("req-1", bil, registeredAt))
		second := registerDrained(t, l, draft("req-2", bil, registeredAt))
		for _, a := range []routers.Appeal{first, second} {
			setDelivery(t, l, a.Number, routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1})
		}
		c := comment("c-1", first)
		addComment(t, l, c)

		got, err := l.Comment(t.Context(), c.ID)
		require.NoError(t, err)
		requireComment(t, c, got)
		_, err = l.Comment(t.Context(), "c-404")
		require.ErrorIs(t, err, routers.ErrNotFound)

		events, err := l.History(t.Context(), first.Number)
		require.NoError(t, err)
		require.Equal(t, []int{1}, sequences(events))
		events, err = l.History(t.Context(), number(bil, 2026, 404))
		require.NoError(t, err)
		require.Empty(t, events, "no history for an unknown appeal")

		stale, err := l.StaleAppeals(t.Context(), bil, clockOf(t).Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []string{first.Number, second.Number}, numbers(stale), "reading moved the appeal's last change")
	})

	t.Run("UpdateUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		registerDrained(t, l, draft("req-1", bil, registeredAt))
		called := false
		err := l.UpdateComment(t.Context(), "c-404", func(*routers.Comment, *routers.Appeal) (routers.Effects, error) {
			called = true
			return routers.Effects{}, nil
		})
		require.ErrorIs(t, err, routers.ErrNotFound)
		require.False(t, called, "fn ran without a comment")
	})

	// Comments' events count in their appeal's sequence, so UpdateComment
	// must hold the same lock as UpdateAppeal.
	t.Run("ConcurrentUpdatesShareTheAppealLock", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		const writers = 10
		for i := range writers {
			addComment(t, l, comment(fmt.Sprintf("c-%d", i), a))
		}
		errs := make(chan error, 2*writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				errs <- l.UpdateAppeal(t.Context(), a.Number, nextEvent(routers.StatusInProgress))
			})
			wg.Go(func() {
				errs <- l.UpdateComment(t.Context(), fmt.Sprintf("c-%d", i), func(c *routers.Comment, ap *routers.Appeal) (routers.Effects, error) {
					c.Delivery.State = routers.DeliveryDelivered
					return nextEvent(routers.StatusCommented)(ap)
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		require.Equal(t, 1+2*writers, got.Sequence)
		require.Equal(t, upTo(1+2*writers), sequences(history(t, l, a.Number)))
		for i := range writers {
			c, _ := peekComment(t, l, fmt.Sprintf("c-%d", i))
			require.Equal(t, routers.DeliveryDelivered, c.Delivery.State)
		}
	})
}
