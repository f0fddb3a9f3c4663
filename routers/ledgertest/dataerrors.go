package ledgertest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// requireRefused checks that a ledger refused a value for what it is: a
// permanent error carrying ErrDataRefused, the same in every ledger, so the
// hub dead-letters it instead of retrying for ever.
func requireRefused(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, routers.ErrDataRefused)
	require.True(t, routers.IsPermanent(err), "a data error must be permanent: %v", err)
}

// testDataErrors: what PostgreSQL's column types refuse (NUL in text, the
// \u0000 escape or an unpaired surrogate in jsonb, an impossible date) every
// ledger refuses, committing nothing; what they take, every ledger takes.
func testDataErrors(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("Register", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			edit func(*routers.Appeal)
		}{
			{"RequestWithNULEscape", func(a *routers.Appeal) { a.Request = json.RawMessage(`{"text":"su\u0000yoxdur"}`) }},
			{"RequestWithLoneHighSurrogate", func(a *routers.Appeal) { a.Request = json.RawMessage(`{"text":"\ud83d yoxdur"}`) }},
			{"RequestWithLoneLowSurrogate", func(a *routers.Appeal) { a.Request = json.RawMessage(`{"text":"\ude00"}`) }},
			{"RequestKeyWithNULEscape", func(a *routers.Appeal) { a.Request = json.RawMessage(`{"te\u0000xt":"su"}`) }},
			{"PersonWithNULEscape", func(a *routers.Appeal) { a.Person = json.RawMessage(`{"name":"Rə\u0000şad"}`) }},
			{"FINWithNUL", func(a *routers.Appeal) { a.FIN = "5XK\x003P2" }},
			{"TextNotUTF8", func(a *routers.Appeal) { a.DistrictRef = "ref-\xff" }},
			{"ImpossibleDeadline", func(a *routers.Appeal) { a.Deadline = "2026-02-30" }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				l := newLedger(t)
				d := draft("req-data-1", bil, registeredAt)
				tc.edit(&d)
				_, err := l.Register(t.Context(), d, nil, numberOf(d), registered)
				requireRefused(t, err)
				_, err = l.Appeal(t.Context(), number(bil, 2026, 1))
				require.ErrorIs(t, err, routers.ErrNotFound, "nothing committed")
				require.Empty(t, drain(t, l))
				a := register(t, l, draft("req-data-1", bil, registeredAt))
				require.Equal(t, number(bil, 2026, 1), a.Number, "the request id and the number stay free")
			})
		}
	})

	// A used id is a duplicate whatever the repeat carries: the claim comes
	// first in every ledger.
	t.Run("RepeatIsADuplicateWhateverItCarries", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-1", bil, registeredAt))
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-1"}, invalid("bad-1")))
		c := comment("c-1", a)
		addComment(t, l, c)
		drain(t, l)

		unstorable := invalid("bad-1")
		unstorable.Messages[0].Metadata = map[string]string{"note": "su\x00"}
		require.ErrorIs(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "bad-1"}, unstorable), routers.ErrDuplicate)
		repeat := c
		repeat.Text = "su\x00 yoxdur"
		require.ErrorIs(t, l.AddComment(t.Context(), repeat, routers.Effects{}), routers.ErrDuplicate)
		require.Empty(t, drain(t, l))
	})

	t.Run("Accepted", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		d := draft("req-data-ok", bil, registeredAt)
		// An escaped backslash before u0000 is text, a paired surrogate an
		// emoji; TAB, LF and U+2028 are characters like any other here.
		d.Request = json.RawMessage(`{"text":"\\u0000 \ud83d\ude00 \t\n` + "\u2028" + `"}`)
		d.Person = json.RawMessage(`{"name":"Rəşad"}`)
		a := registerDrained(t, l, d)
		c := comment("c-ok", a)
		c.Text = "bir\tiki\nüç"
		require.NoError(t, l.AddComment(t.Context(), c, routers.Effects{}))
	})

	t.Run("HistoryNote", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-2", bil, registeredAt))
		err := l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Status, cur.Sequence = routers.StatusInProgress, 2
			ev := event(*cur, 2, routers.StatusInProgress)
			ev.Note = "baxılır\x00"
			return emit(ev), nil
		})
		requireRefused(t, err)
		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		requireAppeal(t, a, got)
		require.Equal(t, []int{1}, sequences(history(t, l, a.Number)))
		require.Empty(t, drain(t, l))
	})

	// Class 23 too: a unique key violated is the same violation on every retry.
	t.Run("SequenceTaken", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-seq", bil, registeredAt))
		err := l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			return emit(event(*cur, 1, routers.StatusInProgress)), nil
		})
		requireRefused(t, err)
		require.Equal(t, []routers.Status{routers.StatusRegistered}, statusesOf(history(t, l, a.Number)))
	})

	t.Run("NumberTaken", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		first := register(t, l, draft("req-data-n1", bil, registeredAt))
		d := draft("req-data-n2", bil, registeredAt)
		_, err := l.Register(t.Context(), d, nil, func(int) string { return first.Number }, registered)
		requireRefused(t, err)
		_, err = l.Register(t.Context(), d, nil, numberOf(d), registered)
		require.NoError(t, err, "the request id stays free")
	})

	t.Run("LastError", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-3", bil, registeredAt))
		err := l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery.LastError = "district said \x00"
			return routers.Effects{}, nil
		})
		requireRefused(t, err)
		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		requireAppeal(t, a, got)
	})

	t.Run("UnknownKeyWithNUL", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		called := false
		err := l.UpdateAppeal(t.Context(), "AZ-BIL-2026-\x00", func(*routers.Appeal) (routers.Effects, error) {
			called = true
			return routers.Effects{}, nil
		})
		requireRefused(t, err)
		require.False(t, called)
		requireRefused(t, l.SetPollCursor(t.Context(), "AZ-\x00", registeredAt))
	})

	t.Run("CommentText", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-4", bil, registeredAt))
		c := comment("c-nul", a)
		c.Text = "hələ\x00 cavab yoxdur"
		requireRefused(t, l.AddComment(t.Context(), c, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c)}}))
		err := l.UpdateComment(t.Context(), c.ID, func(*routers.Comment, *routers.Appeal) (routers.Effects, error) {
			return routers.Effects{}, nil
		})
		require.ErrorIs(t, err, routers.ErrNotFound, "the comment was not stored")
		require.Empty(t, drain(t, l))
		c.Text = "hələ cavab yoxdur"
		require.NoError(t, l.AddComment(t.Context(), c, routers.Effects{}), "the comment's id stays free")
	})

	t.Run("CommentedEvent", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-5", bil, registeredAt))
		c := comment("c-1", a)
		addComment(t, l, c)
		err := l.UpdateComment(t.Context(), c.ID, func(cp *routers.Comment, ap *routers.Appeal) (routers.Effects, error) {
			cp.Delivery.State = routers.DeliveryDelivered
			ap.Sequence = 2
			ev := event(*ap, 2, routers.StatusCommented)
			ev.Note = "\x00"
			return emit(ev), nil
		})
		requireRefused(t, err)
		got, _ := peekComment(t, l, c.ID)
		requireComment(t, c, got)
		require.Equal(t, []int{1}, sequences(history(t, l, a.Number)))
	})

	t.Run("OutboxMetadata", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		e := invalid("req-data-6")
		e.Messages[0].Metadata = map[string]string{"request_id": "req\x00"}
		requireRefused(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "req-data-6"}, e))
		require.Empty(t, drain(t, l))
		require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "req-data-6"}, invalid("req-data-6")), "the request id stays free")
	})

	t.Run("DeadLetter", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			edit func(*routers.DeadLetter)
		}{
			{"ErrorWithNUL", func(dl *routers.DeadLetter) { dl.Error = "bad\x00" }},
			{"HeaderValueWithNUL", func(dl *routers.DeadLetter) { dl.Headers = map[string]string{"x-signature": "sha256=\x00"} }},
			{"HeaderNameWithNUL", func(dl *routers.DeadLetter) { dl.Headers = map[string]string{"x-\x00": "v"} }},
			{"MessageIDNotUTF8", func(dl *routers.DeadLetter) { dl.MessageID = "m-\xfe" }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				l := newLedger(t)
				dl := deadLetter("fp-data")
				tc.edit(&dl)
				requireRefused(t, l.AddDeadLetter(t.Context(), dl))
				letters, err := l.DeadLetters(t.Context(), "", 0, 10)
				require.NoError(t, err)
				require.Empty(t, letters)
			})
		}
	})

	t.Run("DeadLetterWithAChange", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-data-7", bil, time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)))
		dl := deadLetter("appeal:" + a.Number + ":1")
		dl.Kind, dl.AppealNumber, dl.Error = routers.DeadAppeal, a.Number, "422 \x00"
		err := l.UpdateAppeal(t.Context(), a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery.State = routers.DeliveryFailed
			return routers.Effects{DeadLetters: []routers.DeadLetter{dl}}, nil
		})
		requireRefused(t, err)
		got, err := l.Appeal(t.Context(), a.Number)
		require.NoError(t, err)
		require.Equal(t, routers.DeliveryPending, got.Delivery.State)
	})
}

func statusesOf(events []routers.StatusEvent) []routers.Status {
	out := make([]routers.Status, len(events))
	for i, ev := range events {
		out[i] = ev.Status
	}
	return out
}
