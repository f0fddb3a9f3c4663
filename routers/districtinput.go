package routers

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of what a district system tells the hub, in a callback or an
// answer: a district is outside the hub's trust as much as the portal is.
const (
	// MaxReferenceRunes caps a district's reference and an appeal number
	// it names; real ones are about 20 characters.
	MaxReferenceRunes = 100
	// MaxNoteRunes caps a district's note (the authority's free text).
	MaxNoteRunes = 4000
	// districtLeadTolerance is how far a district's time may run ahead of
	// the hub's clock: clocks drift, but no change happens in the future.
	districtLeadTolerance = 5 * time.Minute
	// districtLagTolerance is how long before an appeal's registration a
	// district's time may lie: enough for a clock set in the wrong zone,
	// not for a change older than the appeal.
	districtLagTolerance = 24 * time.Hour
)

// ErrDistrictInput: a district's report holds a field the hub refuses (422).
// The error wrapping it is a *DistrictInputError naming the field.
var ErrDistrictInput = errors.New("district input refused")

// DistrictInputError names the field of a district's report or answer that
// the hub refuses, and why. Field is the callback's name of it (note,
// reference, appeal_number, at, extend, reason, forwarded_to).
type DistrictInputError struct {
	Field  string
	Reason string
}

func (e *DistrictInputError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes every DistrictInputError match ErrDistrictInput.
func (e *DistrictInputError) Unwrap() error { return ErrDistrictInput }

// CheckDistrictText refuses a district's text of more than max characters
// (runes), or holding a control character: C0 except TAB, LF and CR, DEL,
// and the line and paragraph separators U+2028 and U+2029, which break
// logs, the portal's rendering and PostgreSQL's jsonb (NUL).
func CheckDistrictText(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return &DistrictInputError{Field: field, Reason: fmt.Sprintf("%d characters, more than %d", n, max)}
	}
	if r, at, ok := disallowedControl(s); ok {
		return &DistrictInputError{Field: field, Reason: fmt.Sprintf("holds the control character %U at character %d", r, at)}
	}
	return nil
}

// disallowedControl returns the first control character of s that
// CheckDistrictText refuses and its 1-based position in runes.
func disallowedControl(s string) (rune, int, bool) {
	i := strings.IndexFunc(s, forbiddenRune)
	if i < 0 {
		return 0, 0, false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r, utf8.RuneCountInString(s[:i]) + 1, true
}

// checkDistrictText checks the free text of a district's change before
// anything is read or stored.
func checkDistrictText(ch DistrictChange) error {
	return errors.Join(
		CheckDistrictText("appeal_number", ch.AppealNumber, MaxReferenceRunes),
		CheckDistrictText("reference", ch.Reference, MaxReferenceRunes),
		CheckDistrictText("note", ch.Note, MaxNoteRunes),
		CheckDistrictText("reason", ch.Reason, MaxReasonRunes),
		CheckDistrictText("forwarded_to", ch.ForwardedTo, MaxForwardedToRunes),
	)
}

// checkDistrictTime refuses a district's time outside [registered − 1 day,
// now + 5 minutes]. A zero time is none given: the hub takes its own.
func checkDistrictTime(at, registered, now time.Time) error {
	switch {
	case at.IsZero():
		return nil
	case at.Before(registered.Add(-districtLagTolerance)):
		return &DistrictInputError{Field: "at", Reason: fmt.Sprintf("%s is more than %s before the appeal's registration at %s",
			FormatTime(at), districtLagTolerance, FormatTime(registered))}
	case at.After(now.Add(districtLeadTolerance)):
		return &DistrictInputError{Field: "at", Reason: fmt.Sprintf("%s is more than %s ahead of the hub's clock (%s)",
			FormatTime(at), districtLeadTolerance, FormatTime(now))}
	}
	return nil
}

// refused counts err by its field if it refuses a district's input, and
// returns it unchanged.
func (h *Hub) refused(district string, err error) error {
	if e, ok := errors.AsType[*DistrictInputError](err); ok {
		h.metrics.Refused.WithLabelValues(district, e.Field).Inc()
	}
	return err
}

// loggable returns an appeal number a district named as it is, if it is
// fit for a log line, or a placeholder.
func loggable(number string) string {
	if CheckDistrictText("appeal_number", number, MaxReferenceRunes) != nil {
		return "(refused)"
	}
	return number
}
