package ledgertest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testStore(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("CanceledContextChangesNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		c := comment("c-1", a)
		addComment(t, l, c)
		setDelivery(t, l, a.Number, routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: registeredAt})
		a.Delivery.NextAttemptAt = registeredAt
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		update := func(ap *routers.Appeal) (routers.Effects, error) {
			ap.Sequence = 2
			return emit(event(*ap, 2, routers.StatusInProgress)), nil
		}
		calls := []struct {
			name string
			call func() error
		}{
			{"Register", func() error {
				d := draft("req-2", bil, registeredAt)
				_, err := l.Register(ctx, d, nil, numberOf(d), registered)
				return err
			}},
			{"RecordInvalid", func() error { return l.RecordInvalid(ctx, routers.Refusal{RequestID: "bad-1"}, invalid("bad-1")) }},
			{"Appeal", func() error { _, err := l.Appeal(ctx, a.Number); return err }},
			{"UpdateAppeal", func() error { return l.UpdateAppeal(ctx, a.Number, update) }},
			{"History", func() error { _, err := l.History(ctx, a.Number); return err }},
			{"AddComment", func() error {
				c2 := comment("c-2", a)
				return l.AddComment(ctx, c2, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c2)}})
			}},
			{"UpdateComment", func() error {
				return l.UpdateComment(ctx, c.ID, func(_ *routers.Comment, ap *routers.Appeal) (routers.Effects, error) { return update(ap) })
			}},
			{"ClaimDue", func() error { _, err := l.ClaimDue(ctx, registeredAt, 10, routers.DueFilter{}, jobMessage); return err }},
			{"Relay", func() error {
				_, err := l.Relay(ctx, 10, func([]routers.OutboxRecord) error { return nil })
				return err
			}},
			{"Comment", func() error { _, err := l.Comment(ctx, c.ID); return err }},
		}
		for _, tc := range calls {
			require.ErrorIs(t, tc.call(), context.Canceled, tc.name)
		}

		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		requireAppeal(t, a, got)
		require.Equal(t, []int{1}, sequences(history(t, l, a.Number)))
		require.Empty(t, drain(t, l))
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-1"}, invalid("bad-1")), "a canceled call claimed the ID")
		require.Equal(t, number(bil, 2026, 2), register(t, l, draft("req-2", bil, registeredAt)).Number)
	})

	// What callers hand in or get back is theirs: changing it afterwards
	// must not change the store.
	t.Run("CallersCannotAliasState", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		d := draft("req-1", bil, registeredAt)
		var effects routers.Effects
		got, err := l.Register(t.Context(), d, nil, numberOf(d), func(a routers.Appeal) routers.Effects {
			effects = registered(a)
			return effects
		})
		require.NoError(t, err)
		want := got
		want.Request = append(json.RawMessage(nil), got.Request...)
		d.Request[2] = 'X'
		got.Request[3] = 'X'
		effects.Messages[0].Payload[0] = 'X'
		effects.Messages[0].Metadata["request_id"] = "X"
		effects.Events[0].Status = routers.StatusClosed
		requireMessages(t, registered(want).Messages, drain(t, l))

		person := json.RawMessage(`{"name":"Əli"}`)
		var (
			kept    *routers.Appeal
			emitted routers.Effects
		)
		require.NoError(t, l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Person = person
			kept = a
			emitted = emit(progress(*a))
			return emitted, nil
		}))
		want.Person = json.RawMessage(`{"name":"Əli"}`)
		person[2] = 'X'
		kept.Request[2] = 'X'
		kept.Sequence = 99
		emitted.Events[0].Errors[0].Message = "X"

		read, err := l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		read.Person[2] = 'X'
		read.Request[2] = 'X'
		read, err = l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, read)

		events := history(t, l, want.Number)
		events[0].Status = routers.StatusClosed
		events[1].Errors[0].Message = "X"
		requireEvents(t, []routers.StatusEvent{event(want, 1, routers.StatusRegistered), progress(want)}, history(t, l, want.Number))

		_, err = l.Relay(t.Context(), 10, func(records []routers.OutboxRecord) error {
			records[0].Payload[0] = 'X'
			records[0].Metadata["request_id"] = "X"
			return context.DeadlineExceeded // any error: keep the records
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		requireMessages(t, emit(progress(want)).Messages, drain(t, l))
	})
}

// progress is a's second event, with a note and errors to alias.
func progress(a routers.Appeal) routers.StatusEvent {
	ev := event(a, 2, routers.StatusInProgress)
	ev.Note = "İcraya götürüldü"
	ev.Errors = []routers.FieldError{{Field: "appeal.subject", Message: "Mövzu qısadır / subject is short"}}
	return ev
}
