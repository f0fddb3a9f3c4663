package ledgertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testDeadLetterCount(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("OpenByKind", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		open, err := l.OpenDeadLetters(ctx)
		require.NoError(t, err)
		require.Empty(t, open, "an empty ledger")

		for _, fp := range []string{"fp-c1", "fp-c2", "fp-c3"} {
			require.NoError(t, l.AddDeadLetter(ctx, deadLetter(fp)))
		}
		require.ErrorIs(t, l.AddDeadLetter(ctx, deadLetter("fp-c1")), routers.ErrDuplicate)
		a := registerDrained(t, l, draft("req-count-1", "AZ-BIL", time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)))
		dl := deadLetter("appeal:" + a.Number + ":1")
		dl.Kind, dl.AppealNumber = routers.DeadAppeal, a.Number
		require.NoError(t, l.UpdateAppeal(ctx, a.Number, func(cur *routers.Appeal) (routers.Effects, error) {
			cur.Delivery.State = routers.DeliveryFailed
			return routers.Effects{DeadLetters: []routers.DeadLetter{dl}}, nil
		}))
		open, err = l.OpenDeadLetters(ctx)
		require.NoError(t, err)
		require.Equal(t, map[routers.DeadLetterKind]int{routers.DeadPoison: 3, routers.DeadAppeal: 1}, open,
			"a repeated fingerprint is one letter; a letter written with a change counts")

		letters, err := l.DeadLetters(ctx, routers.DeadLetterOpen, 0, 10)
		require.NoError(t, err)
		require.Len(t, letters, 4)
		for i, state := range []routers.DeadLetterState{routers.DeadLetterReplayed, routers.DeadLetterDropped} {
			ok, err := l.ResolveDeadLetter(ctx, letters[i].ID, state, routers.Effects{}, time.Time{}, operatorAct)
			require.NoError(t, err)
			require.True(t, ok)
		}
		open, err = l.OpenDeadLetters(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, open[routers.DeadPoison], "replayed and dropped letters wait no more")
		require.Equal(t, 1, open[routers.DeadAppeal])
		require.Zero(t, open[routers.DeadComment])
	})
}
