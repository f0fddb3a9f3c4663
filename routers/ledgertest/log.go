package ledgertest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// logKey is the suite's checkpoint key.
var logKey = func() *tlog.Signer {
	skey, _, err := tlog.GenerateKey("korpu.ledgertest/log")
	if err != nil {
		panic(err)
	}
	s, err := tlog.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return s
}()

// leafOf is the log's leaf of ev, chained on prev: what every ledger must
// append, computed here from the definition.
func leafOf(t *testing.T, ev routers.StatusEvent, prev []byte) (leaf, hash []byte) {
	t.Helper()
	canonical, err := routers.CanonicalEvent(ev)
	require.NoError(t, err)
	hash = routers.ChainHash(ev.AppealNumber, ev.Sequence, prev, canonical)
	return tlog.LeafHash(hash), hash
}

func checkpointMessage(cp tlog.Checkpoint) routers.OutboxMessage {
	return routers.CheckpointMessage("checkpoints", logKey.Origin(), cp)
}

func testLog(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("SequenceCheckpointProve", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := t.Context()
		due := Epoch.Add(1000 * time.Hour) // notBefore after every checkpoint's time: one is due if the tree grew

		n, err := l.SequenceLog(ctx, 10)
		require.NoError(t, err)
		require.Zero(t, n)
		_, ok, err := l.Checkpoint(ctx, due, logKey.Sign, checkpointMessage)
		require.NoError(t, err)
		require.False(t, ok, "no checkpoint of the empty tree")
		_, err = l.LatestCheckpoint(ctx)
		require.ErrorIs(t, err, routers.ErrNotFound)

		// Three appeals, then a second event of the first: four leaves, in
		// commit order.
		var (
			events []routers.StatusEvent
			leaves [][]byte
		)
		var first routers.Appeal
		var firstHash []byte
		for i, req := range []string{"log-a", "log-b", "log-c"} {
			a := register(t, l, draft(req, "AZ-BIL", Epoch))
			ev := event(a, 1, routers.StatusRegistered)
			leaf, hash := leafOf(t, ev, routers.ChainGenesis)
			events, leaves = append(events, ev), append(leaves, leaf)
			if i == 0 {
				first, firstHash = a, hash
			}
		}
		second := event(first, 2, routers.StatusDelivered)
		require.NoError(t, l.UpdateAppeal(ctx, first.Number, func(*routers.Appeal) (routers.Effects, error) {
			return emit(second), nil
		}))
		leaf, _ := leafOf(t, second, firstHash)
		events, leaves = append(events, second), append(leaves, leaf)
		drain(t, l)

		_, err = l.LeafIndex(ctx, first.Number, 2)
		require.ErrorIs(t, err, routers.ErrNotSequenced, "committed, not yet sequenced")
		_, err = l.LeafIndex(ctx, first.Number, 3)
		require.ErrorIs(t, err, routers.ErrNotFound)

		n, err = l.SequenceLog(ctx, 3)
		require.NoError(t, err)
		require.Equal(t, 3, n, "a batch is at most limit")
		n, err = l.SequenceLog(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		for i, ev := range events {
			index, err := l.LeafIndex(ctx, ev.AppealNumber, ev.Sequence)
			require.NoError(t, err)
			require.Equal(t, uint64(i), index, "leaves in commit order")
		}

		cp, ok, err := l.Checkpoint(ctx, due, logKey.Sign, checkpointMessage)
		require.NoError(t, err)
		require.True(t, ok)
		want := tlog.Empty()
		for _, leaf := range leaves {
			require.NoError(t, want.Append(leaf, nil))
		}
		require.Equal(t, uint64(4), cp.Size)
		require.Equal(t, want.Root(), cp.Root, "the root of the leaves recomputed from the history")
		opened, err := logKey.Verifier().Open(cp.Note)
		require.NoError(t, err)
		require.Equal(t, cp.Root, opened.Root)
		published := drain(t, l)
		require.Len(t, published, 1, "the checkpoint is committed with its message")
		require.Equal(t, "checkpoints", published[0].Topic)
		require.Equal(t, cp.Note, published[0].Payload)
		latest, err := l.LatestCheckpoint(ctx)
		require.NoError(t, err)
		require.Equal(t, cp.Note, latest.Note)

		_, ok, err = l.Checkpoint(ctx, due, logKey.Sign, checkpointMessage)
		require.NoError(t, err)
		require.False(t, ok, "the tree has not grown")

		third := event(first, 3, routers.StatusInProgress)
		require.NoError(t, l.UpdateAppeal(ctx, first.Number, func(*routers.Appeal) (routers.Effects, error) {
			return emit(third), nil
		}))
		n, err = l.SequenceLog(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, ok, err = l.Checkpoint(ctx, latest.At.Add(-time.Second), logKey.Sign, checkpointMessage)
		require.NoError(t, err)
		require.False(t, ok, "the latest checkpoint is within the interval")
		cp5, ok, err := l.Checkpoint(ctx, latest.At.Add(time.Second), logKey.Sign, checkpointMessage)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(5), cp5.Size)

		proofs := routers.LogProofs{Ledger: l}
		for i, ev := range events {
			for _, size := range []uint64{4, 0} {
				p, err := proofs.Inclusion(ctx, ev.AppealNumber, ev.Sequence, size)
				require.NoError(t, err)
				require.Equal(t, leaves[i], p.LeafHash)
				require.NoError(t, proof.VerifyInclusion(tlog.Hasher, p.LeafIndex, p.Checkpoint.Size, p.LeafHash, p.Proof, p.Checkpoint.Root))
			}
		}
		_, err = proofs.Inclusion(ctx, first.Number, 3, 4)
		require.ErrorIs(t, err, routers.ErrNotSequenced, "past that checkpoint")
		_, err = proofs.Inclusion(ctx, first.Number, 2, 3)
		require.ErrorIs(t, err, routers.ErrNotFound, "no checkpoint of size 3")
		older, newer, p, err := proofs.Consistency(ctx, 4, 0)
		require.NoError(t, err)
		require.NoError(t, proof.VerifyConsistency(tlog.Hasher, older.Size, newer.Size, p, older.Root, newer.Root))
		_, err = l.LogNodes(ctx, []tlog.NodeID{{Level: 0, Index: 5}})
		require.Error(t, err, "no such leaf")
	})
}
