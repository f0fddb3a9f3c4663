package tlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/routers/tlog"
)

// store is a map of nodes, as a ledger keeps them.
type store map[tlog.NodeID][]byte

func (s store) read(_ context.Context, ids []tlog.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := s[id]
		if !ok {
			return nil, fmt.Errorf("no node %+v", id)
		}
		out[i] = h
	}
	return out, nil
}

func leaf(i int) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return tlog.LeafHash(h[:])
}

// naiveRoot is RFC 6962 §2.1's MTH, written from the definition.
func naiveRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		return tlog.Hasher.EmptyRoot()
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.Hasher.HashChildren(naiveRoot(leaves[:k]), naiveRoot(leaves[k:]))
}

func TestTreeProofsFromStoredNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store{}
	tree := tlog.Empty()
	var leaves [][]byte
	roots := map[uint64][]byte{0: tree.Root()}
	for i := range 37 {
		leaves = append(leaves, leaf(i))
		require.NoError(t, tree.Append(leaves[i], func(id tlog.NodeID, h []byte) { s[id] = h }))
		require.Equal(t, naiveRoot(leaves), tree.Root(), "size %d", i+1)
		roots[tree.Size()] = tree.Root()
		// A tree loaded back from the stored nodes is the same tree.
		loaded, err := tlog.Load(ctx, tree.Size(), s.read)
		require.NoError(t, err)
		require.Equal(t, tree.Root(), loaded.Root())
	}
	for size := uint64(1); size <= 37; size++ {
		for index := range size {
			p, err := tlog.Inclusion(ctx, s.read, index, size)
			require.NoError(t, err)
			require.NoError(t, proof.VerifyInclusion(tlog.Hasher, index, size, leaves[index], p, roots[size]), "leaf %d of %d", index, size)
		}
		for from := uint64(1); from <= size; from++ {
			p, err := tlog.Consistency(ctx, s.read, from, size)
			require.NoError(t, err)
			require.NoError(t, proof.VerifyConsistency(tlog.Hasher, from, size, p, roots[from], roots[size]), "%d → %d", from, size)
		}
	}
	// Another leaf in place of leaf 5 fails its proof.
	p, err := tlog.Inclusion(ctx, s.read, 5, 37)
	require.NoError(t, err)
	require.Error(t, proof.VerifyInclusion(tlog.Hasher, 5, 37, leaf(99), p, roots[37]))
}

func TestCheckpointSignedAndOpened(t *testing.T) {
	t.Parallel()
	skey, vkey, err := tlog.GenerateKey("korpu.test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	require.Equal(t, vkey, signer.VerifierKey(), "the verifier key is derived from the signer key")
	require.Equal(t, "korpu.test/log", signer.Origin())

	root := leaf(1)
	at := time.Date(2031, 3, 20, 9, 0, 0, 0, time.UTC)
	cp, err := signer.Sign(42, root, at)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(cp.Note, []byte("korpu.test/log\n42\n")), "C2SP body: %s", cp.Note)

	v, err := tlog.NewVerifier(vkey)
	require.NoError(t, err)
	got, err := v.Open(cp.Note)
	require.NoError(t, err)
	require.Equal(t, uint64(42), got.Size)
	require.Equal(t, root, got.Root)

	t.Run("AlteredSignature", func(t *testing.T) {
		t.Parallel()
		altered := bytes.Clone(cp.Note)
		altered[len(altered)-10] ^= 0x01 // inside the base64 of the signature (not its last, partly padding, character)
		_, err := v.Open(altered)
		require.Error(t, err)
	})
	t.Run("AlteredSize", func(t *testing.T) {
		t.Parallel()
		_, err := v.Open(bytes.Replace(cp.Note, []byte("\n42\n"), []byte("\n43\n"), 1))
		require.Error(t, err)
	})
	t.Run("OtherKey", func(t *testing.T) {
		t.Parallel()
		_, otherV, err := tlog.GenerateKey("korpu.test/log")
		require.NoError(t, err)
		other, err := tlog.NewVerifier(otherV)
		require.NoError(t, err)
		_, err = other.Open(cp.Note)
		require.Error(t, err)
	})
	t.Run("BadSignerKeyNotQuoted", func(t *testing.T) {
		t.Parallel()
		_, err := tlog.NewSigner("PRIVATE+KEY+x+secretsecret")
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secretsecret")
	})
}
