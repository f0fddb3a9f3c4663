package ledgertest

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// firstHash is the chain hash of the suite's first event of AZ-BIL's first
// appeal, computed apart from Go (Python's hashlib and json with sorted
// keys, equal to RFC 8785 for this ASCII event): every ledger must store
// these bytes, so a chain verifies whichever ledger wrote it.
const firstHash = "33a3741fbb42b8341becc573d6ae7193cccadef1db6fa221314073973328e820"

func testChain(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("HashesChainTheEvents", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		odd := event(a, 3, routers.StatusForwarded)
		// What canonical JSON must settle: escapes, HTML characters Go
		// escapes and jsonb does not, non-ASCII, a list of objects.
		odd.Note = "Rayon \"Abşeron\" <idarə> & tab\tline\nend \u2028 😀"
		odd.Errors = []routers.FieldError{{Field: "appeal.text", Message: "Mətn boşdur"}, {Field: "x", Message: "\u00e9\u0301"}}
		for _, effects := range []routers.Effects{
			emit(event(a, 2, routers.StatusDelivered)),
			emit(odd, event(a, 4, routers.StatusAnswered)), // two events of one appeal in one batch
		} {
			require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
				a.Sequence += len(effects.Events)
				return effects, nil
			}))
		}
		links, err := l.Chain(t.Context(), a.Number)
		require.NoError(t, err)
		sent := []routers.StatusEvent{event(a, 1, routers.StatusRegistered), event(a, 2, routers.StatusDelivered), odd, event(a, 4, routers.StatusAnswered)}
		prev := routers.ChainGenesis
		require.Len(t, links, len(sent))
		for i, ev := range sent {
			canonical, err := routers.CanonicalEvent(ev)
			require.NoError(t, err)
			prev = routers.ChainHash(a.Number, ev.Sequence, prev, canonical)
			require.Equal(t, routers.ChainLink{Sequence: ev.Sequence, Hash: prev}, links[i], "event %d", ev.Sequence)
		}
		require.Equal(t, firstHash, hex.EncodeToString(links[0].Hash), "the same bytes in every ledger")

		rec, err := l.AppealRecord(t.Context(), a.Number)
		require.NoError(t, err)
		require.Equal(t, links[3], rec.Head, "the record's head is its latest event's link")
		require.Equal(t, routers.HeadMatch{Sequence: 4, Latest: 4}, routers.MatchHead(links, rec.Head.Hash))
		require.Equal(t, routers.HeadMatch{Sequence: 2, Latest: 4}, routers.MatchHead(links, links[1].Hash))
	})

	t.Run("EventWithoutPredecessorIsRefused", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		err := l.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Sequence = 3
			return emit(event(*a, 3, routers.StatusAnswered)), nil
		})
		require.ErrorIs(t, err, routers.ErrDataRefused, "sequence 2 is missing: nothing to chain to")
		require.True(t, routers.IsPermanent(err), "the same write fails the same way every time")
		require.Equal(t, []int{1}, sequences(history(t, l, a.Number)), "nothing of the refused update was kept")
		require.Empty(t, drain(t, l))
	})

	t.Run("UnknownAppealHasNoChain", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		links, err := l.Chain(t.Context(), number(bil, 2026, 1))
		require.NoError(t, err)
		require.Empty(t, links)
	})
}
