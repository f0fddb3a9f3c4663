package ledgertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// operatorAct is an operator's action as the desk hands it to
// ResolveDeadLetter: who, what and on which appeal; the ledger adds the
// letter's id, the outcome and the time.
var operatorAct = routers.OperatorAction{
	Operator: routers.Operator{Name: "Aysel Məmmədova", Role: "operator", Channel: routers.ChannelDashboard},
	Action:   routers.ActionReplay,
}

// testOperatorActions: every resolution of a dead letter is recorded in its
// own commit, with who did it and when by the ledger's clock; a refused one
// records nothing; the record reads newest first, in pages.
func testOperatorActions(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("RecordedWithTheResolution", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := t.Context()
		a := registerDrained(t, l, draft("req-op-1", bil, registeredAt))
		dl := deadLetter("appeal:" + a.Number + ":job-1")
		dl.Kind, dl.AppealNumber = routers.DeadAppeal, a.Number
		require.NoError(t, l.AddDeadLetter(ctx, dl))
		letters, err := l.DeadLetters(ctx, routers.DeadLetterOpen, 0, 10)
		require.NoError(t, err)
		id := letters[0].ID

		act := operatorAct
		act.AppealNumber = a.Number
		act.Outcome, act.DeadLetterID = routers.OutcomeNotFound, id+99 // the ledger's own say wins
		ok, err := l.ResolveDeadLetter(ctx, id, routers.DeadLetterReplayed, routers.Effects{}, clockOf(t).Now(), act)
		require.NoError(t, err)
		require.True(t, ok)
		shown, err := l.DeadLetter(ctx, id)
		require.NoError(t, err)

		got, err := l.OperatorActions(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Positive(t, got[0].ID)
		require.Equal(t, act.Operator, got[0].Operator)
		require.Equal(t, routers.ActionReplay, got[0].Action)
		require.Equal(t, id, got[0].DeadLetterID, "the letter resolved")
		require.Equal(t, a.Number, got[0].AppealNumber)
		require.Equal(t, routers.OutcomeDone, got[0].Outcome)
		requireTime(t, shown.ResolvedAt, got[0].At, "at: the commit's one instant, by the ledger's clock")

		ok, err = l.ResolveDeadLetter(ctx, id, routers.DeadLetterDropped, routers.Effects{}, time.Time{}, act)
		require.NoError(t, err)
		require.False(t, ok)
		got, err = l.OperatorActions(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, got, 1, "a letter no longer open records nothing in the ledger (the desk records the refusal)")
	})

	// What the record cannot keep, the resolution is refused with: no
	// letter is resolved unrecorded.
	t.Run("UnrecordableResolvesNothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := t.Context()
		require.NoError(t, l.AddDeadLetter(ctx, deadLetter("fp-op-nul")))
		letters, err := l.DeadLetters(ctx, "", 0, 10)
		require.NoError(t, err)
		act := operatorAct
		act.Operator.Name = "Ay\x00sel"
		replay := routers.OutboxMessage{Topic: "egov.portal.requests", UUID: "u-op", Payload: []byte("again")}
		_, err = l.ResolveDeadLetter(ctx, letters[0].ID, routers.DeadLetterReplayed, routers.Effects{Messages: []routers.OutboxMessage{replay}}, time.Time{}, act)
		requireRefused(t, err)
		shown, err := l.DeadLetter(ctx, letters[0].ID)
		require.NoError(t, err)
		require.Equal(t, routers.DeadLetterOpen, shown.State, "nothing committed")
		require.Empty(t, drain(t, l))
		got, err := l.OperatorActions(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, got)
		requireRefused(t, l.RecordOperatorAction(ctx, act))
	})

	t.Run("RefusalsNewestFirstInPages", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := t.Context()
		before := clockOf(t).Now()
		outcomes := []routers.Outcome{routers.OutcomeNotFound, routers.OutcomeNotOpen, routers.OutcomeTruncated}
		for i, o := range outcomes {
			act := operatorAct
			act.Operator.Channel, act.Action, act.DeadLetterID, act.Outcome = routers.ChannelCLI, routers.ActionDrop, int64(10+i), o
			require.NoError(t, l.RecordOperatorAction(ctx, act))
		}
		all, err := l.OperatorActions(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, all, 3)
		for i, a := range all {
			want := outcomes[len(outcomes)-1-i]
			require.Equal(t, want, a.Outcome, "newest first")
			require.Equal(t, int64(12-i), a.DeadLetterID)
			require.Equal(t, routers.ChannelCLI, a.Operator.Channel)
			require.Equal(t, routers.ActionDrop, a.Action)
			require.True(t, a.At.After(before), "by the ledger's clock: %s after %s", a.At, before)
			require.WithinDuration(t, before, a.At, time.Minute, "the ledger's clock, not the wall clock")
			if i > 0 {
				require.Less(t, a.ID, all[i-1].ID)
				require.True(t, a.At.Before(all[i-1].At))
			}
		}
		page, err := l.OperatorActions(ctx, all[0].ID, 1)
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, all[1].ID, page[0].ID, "before an id, at most limit")
		page, err = l.OperatorActions(ctx, all[2].ID, 10)
		require.NoError(t, err)
		require.Empty(t, page)
	})
}
