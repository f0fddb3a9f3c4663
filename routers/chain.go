package routers

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/korpu-az/korpu/routers/calendar"
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
	Row      AppealRow
}

// AppealRow is what of an appeal's own row follows from its history: its
// status, milestones and latest forwarding, which the monitors' figures
// count. DaysUnknown: answer_days is NULL (an answer recorded before the
// figures' migration, or none).
type AppealRow struct {
	Status      Status
	Milestones  Milestones
	DaysUnknown bool
	// ForwardedBy, ForwardedAt and ForwardedLate are Statutory's.
	ForwardedBy   string
	ForwardedAt   time.Time
	ForwardedLate bool
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
//
// With a Calendar it also checks each appeal's row (StoredEvent.Row)
// against the milestones its verified history rebuilds, so a row changed
// behind the hub's back does not change the figures unseen.
type ChainVerifier struct {
	Calendar *calendar.Calendar // the hub's, which counted the answer days
	number   string
	next     int    // the sequence expected next
	prev     []byte // the stored hash of the event before
	latest   int
	broken   bool // this appeal's break is named; skip to the next appeal
	row      AppealRow
	rebuilt
	// Appeals and Events count what was walked.
	Appeals, Events int
}

// Add checks e and returns the break it shows, if any: of this appeal
// (its event) or of the appeal before (the end of its history).
func (v *ChainVerifier) Add(e StoredEvent) []ChainBreak {
	var out []ChainBreak
	if e.Number != v.number || v.Appeals == 0 {
		out = append(out, v.end()...)
		v.number, v.next, v.prev, v.latest, v.broken = e.Number, 1, ChainGenesis, e.Latest, false
		v.row, v.rebuilt = e.Row, rebuilt{}
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
	return v.end()
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
	if v.Calendar != nil {
		if reason := v.replay(e.Sequence, e.Event); reason != "" {
			at.Reason = reason
			return at, true
		}
	}
	return at, false
}

// end names what is missing at the end of the current appeal's history,
// or else what of its row its history does not give.
func (v *ChainVerifier) end() []ChainBreak {
	if v.Appeals == 0 || v.broken {
		return nil
	}
	if v.next <= v.latest {
		return []ChainBreak{{Number: v.number, Sequence: v.next,
			Reason: fmt.Sprintf("missing: the appeal's latest event is sequence %d", v.latest)}}
	}
	if v.Calendar == nil || v.next == 1 {
		return nil
	}
	var out []ChainBreak
	for _, reason := range v.rowMismatches() {
		out = append(out, ChainBreak{Number: v.number, Sequence: v.latest, Reason: reason})
	}
	return out
}

// rebuilt is an appeal's row as its verified history gives it so far.
type rebuilt struct {
	registered time.Time
	status     Status
	milestones Milestones // at the events' own times
	// forward is the latest forwarding no event of another district
	// followed: to a body off the hub it was the answer, to a district on
	// the hub the appeal waits for its delivery there.
	forward *StatusEvent
	// The latest forwarding (Hub.forward): by, at the district's time, late.
	forwardedBy   string
	forwardedAt   time.Time
	forwardedLate bool
}

// replay adds a verified event to the rebuilt row, as the hub recorded it
// (Milestones.took) but at the event's own time: the hub's clock at the
// step is not in the history. It returns why the event cannot be read.
func (v *ChainVerifier) replay(sequence int, raw []byte) string {
	var ev StatusEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "the stored event is not an event: " + err.Error()
	}
	at, err := time.Parse(time.RFC3339, ev.At)
	if err != nil {
		return "the stored event's time does not parse: " + err.Error()
	}
	r := &v.rebuilt
	if sequence == 1 {
		r.registered = at
	}
	if r.forward != nil && ev.District != r.forward.District {
		r.forward = nil // delivered to a district on the hub
	}
	if ev.Status != StatusCommented {
		r.status = ev.Status
	}
	if ev.Status == StatusForwarded {
		r.forward = &ev
		// A calendar that does not cover the days counts weekdays, as the hub did.
		r.forwardedBy, r.forwardedAt = ev.District, at
		r.forwardedLate, _ = forwardedLate(v.Calendar, r.registered, at)
	}
	r.milestones.took(v.Calendar, ev.Status, r.registered, ev.Deadline, at, at)
	return ""
}

// rowMismatches compares the appeal's row with its rebuilt row. A
// milestone must be set exactly when its step is in the history and be no
// earlier than the step's event allows (the hub's clock when it took the
// step: an event's time is the district's, at most districtLeadTolerance
// ahead of it); the answer's days and timeliness are counted again on the
// calendar. A later milestone than the hub's clock then cannot be told.
func (v *ChainVerifier) rowMismatches() []string {
	r, row := v.rebuilt, v.row
	var out []string
	if row.Status != r.status {
		out = append(out, fmt.Sprintf("status is %s, the history's last status %s", row.Status, r.status))
	}
	want := r.milestones
	if r.forward != nil && want.AnsweredAt.IsZero() && !row.Milestones.AnsweredAt.IsZero() {
		at, _ := time.Parse(time.RFC3339, r.forward.At) // parsed by replay
		want.answered(v.Calendar, r.registered, r.forward.Deadline, at, at)
	}
	got := row.Milestones
	for _, c := range []struct {
		column    string
		got, want time.Time
	}{
		{"delivered_at", got.DeliveredAt, want.DeliveredAt},
		{"in_progress_at", got.InProgressAt, want.InProgressAt},
		{"answered_at", got.AnsweredAt, want.AnsweredAt},
		{"closed_at", got.ClosedAt, want.ClosedAt},
	} {
		switch {
		case c.got.IsZero() && !c.want.IsZero():
			out = append(out, fmt.Sprintf("%s is not set, the history has the step at %s", c.column, FormatTime(c.want)))
		case !c.got.IsZero() && c.want.IsZero():
			out = append(out, fmt.Sprintf("%s is %s, the history has no such step", c.column, FormatTime(c.got)))
		case c.got.Before(c.want.Add(-districtLeadTolerance)):
			out = append(out, fmt.Sprintf("%s is %s, before the step's event at %s", c.column, FormatTime(c.got), FormatTime(c.want)))
		}
	}
	if got.OnTime != want.OnTime {
		out = append(out, fmt.Sprintf("answered_on_time is %t, the history's answer gives %t", got.OnTime, want.OnTime))
	}
	// The event carries the district's time to the second.
	if row.ForwardedBy != r.forwardedBy || !row.ForwardedAt.Truncate(time.Second).Equal(r.forwardedAt) {
		out = append(out, fmt.Sprintf("forwarded_by, forwarded_at are %q, %s, the history's latest forwarding %q, %s",
			row.ForwardedBy, formatSet(row.ForwardedAt), r.forwardedBy, formatSet(r.forwardedAt)))
	}
	if row.ForwardedLate != r.forwardedLate {
		out = append(out, fmt.Sprintf("forwarded_late is %t, the history's latest forwarding gives %t", row.ForwardedLate, r.forwardedLate))
	}
	switch answered := !want.AnsweredAt.IsZero(); {
	case !answered && !row.DaysUnknown:
		out = append(out, fmt.Sprintf("answer_days is %d, the history has no answer", got.AnswerDays))
	case answered && !row.DaysUnknown && got.AnswerDays != want.AnswerDays:
		out = append(out, fmt.Sprintf("answer_days is %d, the history's answer gives %d", got.AnswerDays, want.AnswerDays))
	}
	return out
}

// formatSet is FormatTime of a time that may be unset.
func formatSet(t time.Time) string {
	if t.IsZero() {
		return "not set"
	}
	return FormatTime(t)
}
