package ledgertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func deadLetter(fingerprint string) routers.DeadLetter {
	return routers.DeadLetter{
		Kind: routers.DeadPoison, Queue: "egov.portal.requests", MessageID: "m-" + fingerprint,
		Body: []byte(`{"not":"signed"}` + "\x00\xff"), Size: 1 << 20, SHA256: strings.Repeat("ab", 32),
		Headers: map[string]string{"x-signature": "sha256=00"},
		Error:   "x-signature does not match the body", Attempts: 1, Fingerprint: fingerprint,
	}
}

func testDeadLetters(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("AddListShow", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		before := clockOf(t).Now()
		require.NoError(t, l.AddDeadLetter(ctx, deadLetter("fp-1")))
		require.ErrorIs(t, l.AddDeadLetter(ctx, deadLetter("fp-1")), routers.ErrDuplicate, "the same failure twice")
		second := deadLetter("fp-2")
		second.Kind, second.AppealNumber, second.Attempts = routers.DeadAppeal, "AZ-BIL-2026-000001", 7
		second.Size = int64(len(second.Body))
		require.NoError(t, l.AddDeadLetter(ctx, second))

		all, err := l.DeadLetters(ctx, "", 0, 10)
		require.NoError(t, err)
		require.Len(t, all, 2, "a repeated fingerprint is one letter")
		first := all[0]
		want := deadLetter("fp-1")
		require.Equal(t, want.Kind, first.Kind)
		require.Equal(t, want.Queue, first.Queue)
		require.Equal(t, want.MessageID, first.MessageID)
		require.Equal(t, want.Body, first.Body, "bytes kept exactly")
		require.Equal(t, want.Size, first.Size, "the whole body's size")
		require.Equal(t, want.SHA256, first.SHA256)
		require.True(t, first.Truncated(), "a letter keeping less than its size")
		require.False(t, all[1].Truncated())
		require.Equal(t, want.Headers, first.Headers)
		require.Equal(t, want.Error, first.Error)
		require.Equal(t, routers.DeadLetterOpen, first.State)
		require.True(t, first.CreatedAt.After(before), "created at %s, by the ledger's clock after %s", first.CreatedAt, before)
		require.WithinDuration(t, before, first.CreatedAt, time.Minute, "the ledger's clock, not the wall clock")
		require.Less(t, first.ID, all[1].ID)
		require.Equal(t, 7, all[1].Attempts)
		require.Equal(t, "AZ-BIL-2026-000001", all[1].AppealNumber)

		page, err := l.DeadLetters(ctx, routers.DeadLetterOpen, first.ID, 10)
		require.NoError(t, err)
		require.Len(t, page, 1, "after an ID")
		require.Equal(t, all[1].ID, page[0].ID)

		shown, err := l.DeadLetter(ctx, first.ID)
		require.NoError(t, err)
		require.Equal(t, first.Body, shown.Body)
		_, err = l.DeadLetter(ctx, first.ID+1000)
		require.ErrorIs(t, err, routers.ErrNotFound)
	})

	t.Run("Resolve", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		require.NoError(t, l.AddDeadLetter(ctx, deadLetter("fp-r")))
		all, err := l.DeadLetters(ctx, "", 0, 10)
		require.NoError(t, err)
		id := all[0].ID
		replay := routers.OutboxMessage{Topic: "egov.portal.requests", UUID: "u-1", Payload: []byte("again"), Metadata: map[string]string{"x-signature": "sha256=00"}}

		ok, err := l.ResolveDeadLetter(ctx, id, routers.DeadLetterReplayed, routers.Effects{Messages: []routers.OutboxMessage{replay}}, time.Time{}, operatorAct)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = l.ResolveDeadLetter(ctx, id, routers.DeadLetterDropped, routers.Effects{Messages: []routers.OutboxMessage{replay}}, time.Time{}, operatorAct)
		require.NoError(t, err)
		require.False(t, ok, "only an open letter can be resolved")
		requireMessages(t, []routers.OutboxMessage{replay}, drain(t, l))

		shown, err := l.DeadLetter(ctx, id)
		require.NoError(t, err)
		require.Equal(t, routers.DeadLetterReplayed, shown.State)
		require.WithinDuration(t, clockOf(t).Now(), shown.ResolvedAt, time.Minute, "resolved by the ledger's clock")
		open, err := l.DeadLetters(ctx, routers.DeadLetterOpen, 0, 10)
		require.NoError(t, err)
		require.Empty(t, open)

		_, err = l.ResolveDeadLetter(ctx, id+1000, routers.DeadLetterDropped, routers.Effects{}, time.Time{}, operatorAct)
		require.ErrorIs(t, err, routers.ErrNotFound)
	})

	t.Run("WrittenWithAChange", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		a := registerDrained(t, l, draft("req-dead-1", "AZ-BIL", time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)))
		dl := deadLetter("appeal:" + a.Number + ":3")
		dl.Kind, dl.AppealNumber = routers.DeadAppeal, a.Number
		err := l.UpdateAppeal(ctx, a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery.State = routers.DeliveryFailed
			return routers.Effects{DeadLetters: []routers.DeadLetter{dl}}, errRollback
		})
		require.ErrorIs(t, err, errRollback)
		letters, err := l.DeadLetters(ctx, "", 0, 10)
		require.NoError(t, err)
		require.Empty(t, letters, "a rolled-back change leaves no dead letter")

		require.NoError(t, l.UpdateAppeal(ctx, a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery.State = routers.DeliveryFailed
			return routers.Effects{DeadLetters: []routers.DeadLetter{dl}}, nil
		}))
		letters, err = l.DeadLetters(ctx, "", 0, 10)
		require.NoError(t, err)
		require.Len(t, letters, 1)
		require.Equal(t, a.Number, letters[0].AppealNumber)
	})

	t.Run("ReplayRequeuesInTheSameCommit", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		a := registerDrained(t, l, draft("req-dead-rq", "AZ-BIL", time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)))
		dl := deadLetter("appeal:" + a.Number + ":job-1")
		dl.Kind, dl.AppealNumber = routers.DeadAppeal, a.Number
		require.NoError(t, l.UpdateAppeal(ctx, a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery = routers.Delivery{State: routers.DeliveryFailed, Attempts: 7, LastError: "422", Unanswered: true}
			return routers.Effects{DeadLetters: []routers.DeadLetter{dl}}, nil
		}))
		letters, err := l.DeadLetters(ctx, routers.DeadLetterOpen, 0, 10)
		require.NoError(t, err)
		require.Len(t, letters, 1)

		due := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		ok, err := l.ResolveDeadLetter(ctx, letters[0].ID, routers.DeadLetterReplayed, routers.Effects{}, due, operatorAct)
		require.NoError(t, err)
		require.True(t, ok)
		got, err := l.Appeal(ctx, a.Number)
		require.NoError(t, err)
		requireDelivery(t, routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: due}, got.Delivery) // a fresh start

		// A drop racing the replay finds the letter closed and changes nothing.
		ok, err = l.ResolveDeadLetter(ctx, letters[0].ID, routers.DeadLetterDropped, routers.Effects{}, time.Time{}, operatorAct)
		require.NoError(t, err)
		require.False(t, ok)
	})
}
