package routers

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/gowebpki/jcs"
)

// chainTag separates the history chain's hashes from every other SHA-256
// the hub or anyone else computes; v1 names this definition.
const chainTag = "korpu/history/v1\x00"

// ChainHashSize is the size of a history chain hash.
const ChainHashSize = sha256.Size

// ChainGenesis is the previous hash of an appeal's first event.
var ChainGenesis = make([]byte, ChainHashSize)

// ChainHeader is what ChainHash hashes before the previous hash: the tag,
// the appeal number's length (4 bytes, big-endian) and bytes, and the
// sequence (8 bytes, big-endian), so no two (number, sequence) pairs give
// the same bytes. The PostgreSQL ledger hands it to the INSERT that
// finishes the hash (see ChainHash).
func ChainHeader(number string, sequence int) []byte {
	b := make([]byte, 0, len(chainTag)+4+len(number)+8)
	b = append(b, chainTag...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(number))) //nolint:gosec // an appeal number is a few dozen bytes
	b = append(b, number...)
	return binary.BigEndian.AppendUint64(b, uint64(sequence)) //nolint:gosec // sequences start at 1
}

// ChainHash is the hash of an appeal's history event: SHA-256 over
// ChainHeader(number, sequence), prev (the previous event's hash,
// ChainGenesis for sequence 1) and canonical (the event as
// CanonicalEvent or CanonicalJSON gives it). Every ledger stores it and
// `korpu audit verify` recomputes it; the PostgreSQL ledger computes the
// same bytes in SQL as sha256(header || prev || canonical).
func ChainHash(number string, sequence int, prev, canonical []byte) []byte {
	h := sha256.New()
	h.Write(ChainHeader(number, sequence))
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(nil)
}

// CanonicalEvent is ev in RFC 8785 canonical JSON: the bytes its chain
// hash covers, whatever form a ledger keeps the event in.
func CanonicalEvent(ev StatusEvent) ([]byte, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("canonical event: %w", err)
	}
	return CanonicalJSON(body)
}

// CanonicalJSON is raw in RFC 8785 canonical JSON; what PostgreSQL's jsonb
// returns of a stored event canonicalizes to the bytes CanonicalEvent gave
// when it was stored. Duplicate keys are refused.
func CanonicalJSON(raw []byte) ([]byte, error) {
	canonical, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return canonical, nil
}
