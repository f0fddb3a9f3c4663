// Package tlog is the hub's transparency log (issue 11): every history
// event's chain hash is a leaf of one append-only Merkle tree, RFC 6962
// with SHA-256 (github.com/transparency-dev/merkle), and the tree's size
// and root are signed now and then as checkpoints, Ed25519 signed notes in
// the C2SP tlog-checkpoint form (golang.org/x/mod/sumdb/note), which
// monitors keep so that no rewrite of the record goes unseen.
//
// The package is the tree's arithmetic and the checkpoints' format only;
// the ledgers store leaves and nodes (see routers.LogLedger), and the
// package reads them back through a NodeReader. A store keeps every
// perfect subtree's root once it is complete, so appending needs only the
// tree's compact range (at most log2(size) nodes) and a proof only the
// nodes it names: nothing is recomputed from the leaves.
package tlog

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hasher is the log's hasher: RFC 6962 on SHA-256.
var Hasher = rfc6962.DefaultHasher

var factory = &compact.RangeFactory{Hash: Hasher.HashChildren}

// LeafHash is the tree's leaf of the event whose chain hash is eventHash
// (RFC 6962: SHA-256 of 0x00 and the leaf's data).
func LeafHash(eventHash []byte) []byte { return Hasher.HashLeaf(eventHash) }

// NodeID names a node: level 0 are the leaves, a node at level l and index
// i is the root of the perfect subtree over leaves [i·2^l, (i+1)·2^l).
type NodeID = compact.NodeID

// NodeReader returns the hashes of stored nodes, in the order of ids. Every
// id is a complete perfect subtree of the tree, so a store that lacks one
// has lost data: it returns an error.
type NodeReader func(ctx context.Context, ids []NodeID) ([][]byte, error)

// Tree is a log's state as a sequencer keeps it: the compact range of the
// tree from leaf 0 to its size.
type Tree struct{ r *compact.Range }

// Empty is the tree of no leaves.
func Empty() *Tree { return &Tree{r: factory.NewEmptyRange(0)} }

// Load reads the compact range of the tree of size leaves from read.
func Load(ctx context.Context, size uint64, read NodeReader) (*Tree, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := read(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read the tree's compact range: %w", err)
	}
	r, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("the tree's compact range: %w", err)
	}
	return &Tree{r: r}, nil
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 { return t.r.End() }

// Root is the tree's root hash (RFC 6962's hash of the empty string for
// the empty tree).
func (t *Tree) Root() []byte {
	root, err := t.r.GetRootHash(nil)
	if err != nil || root == nil { // err: unreachable, the range begins at 0
		return Hasher.EmptyRoot()
	}
	return root
}

// Append adds a leaf hash; store (if not nil) is given every node the leaf
// completes, the leaf itself (level 0) first, to keep.
func (t *Tree) Append(leafHash []byte, store func(id NodeID, hash []byte)) error {
	var visit compact.VisitFn
	if store != nil {
		visit = func(id NodeID, hash []byte) { store(id, hash) }
	}
	if err := t.r.Append(leafHash, visit); err != nil {
		return fmt.Errorf("append leaf %d: %w", t.r.End(), err)
	}
	return nil
}

// Inclusion is the inclusion proof of leaf index in the tree of size
// leaves, built from stored nodes.
func Inclusion(ctx context.Context, read NodeReader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return rehash(ctx, read, nodes)
}

// Consistency is the consistency proof between the trees of sizes from
// and to (from ≤ to), built from stored nodes.
func Consistency(ctx context.Context, read NodeReader, from, to uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(from, to)
	if err != nil {
		return nil, err
	}
	return rehash(ctx, read, nodes)
}

func rehash(ctx context.Context, read NodeReader, nodes proof.Nodes) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := read(ctx, nodes.IDs)
	if err != nil {
		return nil, fmt.Errorf("read the proof's nodes: %w", err)
	}
	return nodes.Rehash(hashes, Hasher.HashChildren)
}

// VerifyExtends checks that the tree of size leaves and root, as read from
// the stored nodes, extends the signed tree of oldSize leaves and oldRoot:
// the consistency proof between them, built from the same nodes, must
// verify. A node altered below oldSize changes either the proof or the new
// root, so a store that lost its integrity is not signed over.
func VerifyExtends(ctx context.Context, read NodeReader, oldSize uint64, oldRoot []byte, size uint64, root []byte) error {
	p, err := Consistency(ctx, read, oldSize, size)
	if err != nil {
		return fmt.Errorf("consistency proof %d → %d: %w", oldSize, size, err)
	}
	if err := proof.VerifyConsistency(Hasher, oldSize, size, p, oldRoot, root); err != nil {
		return fmt.Errorf("the tree of %d does not extend the checkpoint of %d: %w", size, oldSize, err)
	}
	return nil
}
