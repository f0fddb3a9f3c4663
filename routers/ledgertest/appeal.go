package ledgertest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testAppeal(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("UnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		_, err := l.Appeal(t.Context(), number(bil, 2026, 1))
		require.ErrorIs(t, err, routers.ErrNotFound)
		called := false
		err = l.UpdateAppeal(t.Context(), number(bil, 2026, 1), func(*routers.Appeal) (routers.Effects, error) {
			called = true
			return routers.Effects{}, nil
		})
		require.ErrorIs(t, err, routers.ErrNotFound)
		require.False(t, called, "fn ran without an appeal")
	})

	t.Run("UpdatePersistsChangesWithEffects", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-1", bil, registeredAt))
		retryAt := time.Date(2026, 3, 10, 9, 20, 0, 654321000, time.UTC)

		// Each step changes every field fn may change, then a later step
		// takes some back to zero: a cleared retry time must stay cleared.
		steps := []struct {
			name   string
			change func(*routers.Appeal)
			status routers.Status
		}{
			{"Failed", func(a *routers.Appeal) {
				a.Person = json.RawMessage(`{"name":"Əli","surname":"Məmmədov"}`)
				a.Delivery = routers.Delivery{State: routers.DeliveryPending, Attempts: 1, NextAttemptAt: retryAt, LastError: "timeout", Unanswered: true}
			}, ""},
			{"Delivered", func(a *routers.Appeal) {
				a.Status = routers.StatusDelivered
				a.Sequence = 2
				a.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 2}
				a.DistrictRef = "BIL/2026/77"
			}, routers.StatusDelivered},
			{"Answered", func(a *routers.Appeal) {
				a.Status = routers.StatusAnswered
				a.Sequence = 3
			}, routers.StatusAnswered},
		}
		wantHistory := history(t, l, want.Number)
		for _, s := range steps {
			var seen routers.Appeal
			var effects routers.Effects
			err := l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
				seen = *a
				s.change(a)
				if s.status != "" {
					effects = emit(event(*a, a.Sequence, s.status))
				}
				return effects, nil
			})
			require.NoError(t, err, s.name)
			requireAppeal(t, want, seen) // fn sees the stored appeal
			s.change(&want)
			got, err := l.Appeal(t.Context(), want.Number)
			require.NoError(t, err, s.name)
			requireAppeal(t, want, got)
			wantHistory = append(wantHistory, effects.Events...)
			requireEvents(t, wantHistory, history(t, l, want.Number))
			requireMessages(t, effects.Messages, drain(t, l))
		}
	})

	t.Run("UpdateErrorCommitsNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-1", bil, registeredAt))
		errDistrict := errors.New("district says no")
		err := l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Status = routers.StatusDelivered
			a.Sequence = 2
			a.Person = json.RawMessage(`{"name":"Əli"}`)
			a.Delivery = routers.Delivery{State: routers.DeliveryFailed, Attempts: 9, LastError: "boom"}
			a.DistrictRef = "ref"
			return emit(event(*a, 2, routers.StatusDelivered)), errDistrict
		})
		require.ErrorIs(t, err, errDistrict)
		got, err := l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, got)
		require.Equal(t, []int{1}, sequences(history(t, l, want.Number)))
		require.Empty(t, drain(t, l))
	})

	t.Run("ConcurrentUpdatesAreSerialised", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		const writers = 20
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				errs <- l.UpdateAppeal(t.Context(), a.Number, nextEvent(routers.StatusInProgress))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		require.Equal(t, 1+writers, got.Sequence)
		require.Equal(t, upTo(1+writers), sequences(history(t, l, a.Number)))
		require.Len(t, drain(t, l), writers)
	})

	t.Run("HistoryInSequenceOrder", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		full := event(a, 4, routers.StatusForwarded)
		full.Deadline = "2026-04-01"
		full.Note = "Rayon Abşeronu idarəsinə göndərildi"
		full.Errors = []routers.FieldError{{Field: "appeal.text", Message: "Mətn boşdur / text is empty"}, {Field: "x", Message: "y"}}
		// One event, then two in one batch; read in order. (Each event is
		// chained to the one before, so none can be committed before it.)
		batches := []routers.Effects{
			emit(event(a, 2, routers.StatusInProgress)),
			emit(event(a, 3, routers.StatusAnswered), full),
		}
		for _, effects := range batches {
			require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(*routers.Appeal) (routers.Effects, error) {
				return effects, nil
			}))
		}
		want := []routers.StatusEvent{event(a, 1, routers.StatusRegistered), event(a, 2, routers.StatusInProgress), event(a, 3, routers.StatusAnswered), full}
		requireEvents(t, want, history(t, l, a.Number))
	})
}

// nextEvent is an update that moves the appeal one event on.
func nextEvent(status routers.Status) func(*routers.Appeal) (routers.Effects, error) {
	return func(a *routers.Appeal) (routers.Effects, error) {
		a.Sequence++
		return emit(event(*a, a.Sequence, status)), nil
	}
}
