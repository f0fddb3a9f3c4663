package routers

import (
	"crypto/sha256"
	"crypto/subtle"
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

// ChainLink is one event's place in its appeal's chain: its sequence and
// its ChainHash as the ledger keeps it.
type ChainLink struct {
	Sequence int
	Hash     []byte
}

// HeadMatch is what a hash shown on a printed appeal is in the appeal's
// chain: Sequence is the event it is the hash of (0: none), Latest the
// sequence of the appeal's latest event (0: no history).
type HeadMatch struct {
	Sequence int
	Latest   int
}

// Current reports whether the hash is the chain's head: the printed copy
// shows the record as it stands.
func (m HeadMatch) Current() bool { return m.Sequence != 0 && m.Sequence == m.Latest }

// MatchHead finds head among an appeal's links (in sequence order).
func MatchHead(links []ChainLink, head []byte) HeadMatch {
	var m HeadMatch
	for _, l := range links {
		if subtle.ConstantTimeCompare(l.Hash, head) == 1 {
			m.Sequence = l.Sequence
		}
		m.Latest = l.Sequence
	}
	return m
}

// StoredEvent is a history row as `korpu audit verify` reads it: the event
// as the ledger returns it (raw JSON), its stored hash (nil: unsealed) and
// Latest, the sequence the appeal's own row names as its last event. An
// appeal without any history row comes as one StoredEvent with Sequence 0.
type StoredEvent struct {
	Number   string
	Sequence int
	Event    []byte
	Hash     []byte
	Latest   int
}

// ChainBreak names the first place where an appeal's chain does not hold.
type ChainBreak struct {
	Number   string
	Sequence int
	Reason   string
}

func (b ChainBreak) String() string {
	return fmt.Sprintf("appeal %s sequence %d: %s", b.Number, b.Sequence, b.Reason)
}

// ChainVerifier re-walks chains from events fed in (appeal, sequence)
// order, holding one appeal's state at a time, so a ledger of any size is
// verified in bounded memory. It names the first break of each appeal.
type ChainVerifier struct {
	number string
	next   int    // the sequence expected next
	prev   []byte // the stored hash of the event before
	latest int
	broken bool // this appeal's break is named; skip to the next appeal
	// Appeals and Events count what was walked.
	Appeals, Events int
}

// Add checks e and returns the break it shows, if any: of this appeal
// (its event) or of the appeal before (the end of its history).
func (v *ChainVerifier) Add(e StoredEvent) []ChainBreak {
	var out []ChainBreak
	if e.Number != v.number || v.Appeals == 0 {
		if b, ok := v.end(); ok {
			out = append(out, b)
		}
		v.number, v.next, v.prev, v.latest, v.broken = e.Number, 1, ChainGenesis, e.Latest, false
		v.Appeals++
	}
	if e.Sequence == 0 || v.broken {
		return out // no history at all: end() names it
	}
	v.Events++
	if b, ok := v.check(e); ok {
		v.broken = true
		out = append(out, b)
	}
	return out
}

// Close ends the walk and returns the last appeal's break, if any.
func (v *ChainVerifier) Close() []ChainBreak {
	if b, ok := v.end(); ok {
		return []ChainBreak{b}
	}
	return nil
}

func (v *ChainVerifier) check(e StoredEvent) (ChainBreak, bool) {
	at := ChainBreak{Number: e.Number, Sequence: e.Sequence}
	if e.Sequence != v.next {
		at.Sequence = v.next
		at.Reason = fmt.Sprintf("missing: the history goes on at sequence %d", e.Sequence)
		return at, true
	}
	v.next++
	if e.Sequence > v.latest {
		at.Reason = fmt.Sprintf("beyond the appeal's latest event, sequence %d", v.latest)
		return at, true
	}
	if e.Hash == nil {
		at.Reason = "unsealed: the event has no hash"
		return at, true
	}
	canonical, err := CanonicalJSON(e.Event)
	if err != nil {
		at.Reason = "the stored event is not JSON: " + err.Error()
		return at, true
	}
	if subtle.ConstantTimeCompare(ChainHash(e.Number, e.Sequence, v.prev, canonical), e.Hash) != 1 {
		at.Reason = "altered: the hash does not match the event and the previous hash"
		return at, true
	}
	v.prev = e.Hash
	return at, false
}

// end names what is missing at the end of the current appeal's history.
func (v *ChainVerifier) end() (ChainBreak, bool) {
	if v.Appeals == 0 || v.broken || v.next > v.latest {
		return ChainBreak{}, false
	}
	return ChainBreak{Number: v.number, Sequence: v.next,
		Reason: fmt.Sprintf("missing: the appeal's latest event is sequence %d", v.latest)}, true
}
