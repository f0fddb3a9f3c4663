package routers

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/korpu-az/korpu/routers/calendar"
)

// The law's clock beyond the first deadline (contract §4, v1.1): a district
// may extend an appeal's deadline once, and must forward an appeal that is
// not its business to the competent body within 3 working days.
const (
	// forwardWorkingDays is how long after registration forwarding is on time.
	forwardWorkingDays = 3
)

// Bounds of the v1.1 fields of a status report.
const (
	// MaxReasonRunes caps the reason of an extension, like a note.
	MaxReasonRunes = MaxNoteRunes
	// MaxForwardedToRunes caps forwarded_to: a district code or the name
	// of a body (a ministry's full name is about 60 characters).
	MaxForwardedToRunes = 200
)

// Errors of the v1.1 reports, each a 409 at the API: the report is well
// formed, but the appeal's state does not allow it.
var (
	// ErrAlreadyExtended: the appeal's deadline was extended before; the
	// law allows it once.
	ErrAlreadyExtended = errors.New("the appeal's deadline was already extended once")
	// ErrForwardConflict: the appeal was forwarded elsewhere already, or the
	// district named held it before and forwarded it on.
	ErrForwardConflict = errors.New("the appeal cannot be forwarded there")
)

// Statutory is what the law's clock adds to an appeal: its one extension,
// and its latest forwarding.
type Statutory struct {
	Extended        bool
	ExtendedAt      time.Time // when the district extended it, by its report
	ExtensionReason string
	// The latest forwarding: by which district (ForwardedBy), to whom
	// (ForwardedTo: a district code on the hub, or another body's name; ""
	// when an ESD district forwarded it, ESD having no place for the name),
	// when, and whether later than 3 working days after registration.
	ForwardedTo   string
	ForwardedBy   string
	ForwardedAt   time.Time
	ForwardedLate bool
	// Forwarders are the districts that forwarded the appeal to another
	// district on the hub, in order. None may get it again: its system
	// knows the number already, so a second hand-over would be taken for a
	// repeat of the first.
	Forwarders []string
}

// InTransfer reports whether the appeal was forwarded to the district that
// now holds it, which has not taken it up yet: the portal has seen
// "forwarded", and the new authority's steps start again from "registered".
func (a *Appeal) InTransfer() bool {
	return a.Status == StatusForwarded && a.ForwardedTo == a.District
}

// stage is where the appeal stands among its current authority's steps.
func (a *Appeal) stage() Status {
	if a.InTransfer() {
		return StatusRegistered
	}
	return a.Status
}

// checkReport checks what contract §4 v1.1 asks of a callback's fields,
// before anything is read: extend only on in_progress and with a reason, a
// reason only with extend, forwarded_to on forwarded and only there, and
// never naming the reporting district itself.
func checkReport(r StatusReport) error {
	var errs []error
	switch {
	case r.Extend && r.Status != StatusInProgress:
		errs = append(errs, &DistrictInputError{Field: "extend", Reason: "only an in_progress report may extend the deadline"})
	case r.Extend && strings.TrimSpace(r.Reason) == "":
		errs = append(errs, &DistrictInputError{Field: "reason", Reason: "an extension needs the reason for the extra checking"})
	case !r.Extend && r.Reason != "":
		errs = append(errs, &DistrictInputError{Field: "reason", Reason: "a reason goes only with extend"})
	}
	switch {
	case r.Status == StatusForwarded && strings.TrimSpace(r.ForwardedTo) == "":
		errs = append(errs, &DistrictInputError{Field: "forwarded_to", Reason: "a forwarded report must name the competent body"})
	case r.Status != StatusForwarded && r.ForwardedTo != "":
		errs = append(errs, &DistrictInputError{Field: "forwarded_to", Reason: "only a forwarded report names a body"})
	case strings.TrimSpace(r.ForwardedTo) != r.ForwardedTo:
		// " AZ-BIL" is no district's code: refused rather than taken for another body's name.
		errs = append(errs, &DistrictInputError{Field: "forwarded_to", Reason: "begins or ends with white space"})
	case r.ForwardedTo != "" && r.ForwardedTo == r.District:
		errs = append(errs, &DistrictInputError{Field: "forwarded_to", Reason: "names the reporting district itself"})
	}
	return errors.Join(errs...)
}

// checkStatutory refuses a change the appeal's state does not allow: a
// second extension, a forwarding that differs from the one recorded, or one
// to a district that forwarded the appeal before. current is a.stage().
func checkStatutory(a *Appeal, current Status, ch DistrictChange) error {
	if ch.Extend && a.Extended {
		return fmt.Errorf("%w, on %s, to %s", ErrAlreadyExtended, FormatTime(a.ExtendedAt), a.Deadline)
	}
	if ch.Status != StatusForwarded {
		return nil
	}
	if current == StatusForwarded && ch.ForwardedTo != a.ForwardedTo {
		return fmt.Errorf("%w: it was forwarded to %q already", ErrForwardConflict, a.ForwardedTo)
	}
	if slices.Contains(a.Forwarders, ch.ForwardedTo) {
		return fmt.Errorf("%w: %s held it before and forwarded it on", ErrForwardConflict, ch.ForwardedTo)
	}
	return nil
}

// repeatsForward reports whether ch, from a district that no longer holds
// the appeal, repeats the forwarding by which it passed the appeal on: a
// retried callback, accepted like any repeat and changing nothing.
func repeatsForward(a *Appeal, district string, ch DistrictChange) bool {
	return ch.Status == StatusForwarded && a.ForwardedBy == district && a.ForwardedTo == ch.ForwardedTo && a.ForwardedTo != ""
}

// extend gives a the extended deadline, 30 working days after
// registration, and returns the note the in_progress event carries: the
// district's, and the new date with the reason.
func (h *Hub) extend(a *Appeal, ch DistrictChange, at time.Time) string {
	a.Deadline = h.dueDate(a.RegisteredAt, ExtendedAnswerWorkingDays)
	a.Extended, a.ExtendedAt, a.ExtensionReason = true, at, ch.Reason
	return joinNotes(ch.Note, Bilingual("Cavab müddəti "+a.Deadline+" tarixinədək uzadıldı", "the answer is now due by "+a.Deadline)+
		". Səbəb / reason: "+ch.Reason)
}

// forward records the forwarding ch reports at at (seen at now) and
// returns its event. When forwarded_to is a district on the hub, the
// appeal becomes that district's: its number and deadline stay, and its
// delivery starts again (job is the new district's delivery job).
// Otherwise it ends forwarded, which is its answer.
func (h *Hub) forward(a *Appeal, ch DistrictChange, at, now time.Time) (ev StatusEvent, job *OutboxMessage) {
	from := a.District
	a.ForwardedTo, a.ForwardedBy, a.ForwardedAt = ch.ForwardedTo, from, at
	a.ForwardedLate = h.forwardedLate(a.RegisteredAt, at)
	target, onHub := h.validator.Directory.Districts[ch.ForwardedTo]
	note := ch.Note
	if ch.ForwardedTo != "" {
		name := ch.ForwardedTo
		if onHub && target.Name != "" {
			name = target.Name + " (" + target.Code + ")"
		}
		note = joinNotes(note, Bilingual("Aidiyyəti üzrə göndərildi: "+name, "forwarded to: "+name))
	}
	ev = advance(a, a.RequestID, StatusForwarded, note, at) // in the name of the district that forwards
	if !onHub {
		h.answered(a, at, now)
		return ev, nil
	}
	a.Forwarders = append(a.Forwarders, from)
	a.District = ch.ForwardedTo
	a.DistrictRef = ""
	a.Delivery = Delivery{State: DeliveryPending}
	msg := h.cfg.Topics.jobMessage(a.District, Job{Kind: JobAppeal, Key: a.Number})
	return ev, &msg
}

// forwardedLate reports whether forwarding at at is later than 3 working
// days after the registration.
func (h *Hub) forwardedLate(registered, at time.Time) bool {
	late, err := forwardedLate(h.validator.Calendar, registered, at)
	if err != nil {
		h.logCalendarGap(err)
	}
	return late
}

// forwardedLate is Hub.forwardedLate on cal, for `korpu audit verify` as
// well; err: cal does not cover the days (see dueDate).
func forwardedLate(cal *calendar.Calendar, registered, at time.Time) (bool, error) {
	last, err := dueDate(cal, registered, forwardWorkingDays)
	return calendar.Day(at).Format(time.DateOnly) > last, err
}

// countStatutory counts what a committed change did beyond its status.
func (h *Hub) countStatutory(district string, extended bool, forwarded *Appeal) {
	if extended {
		h.metrics.Extended.WithLabelValues(district).Inc()
	}
	if forwarded != nil {
		h.metrics.Forwarded.WithLabelValues(district, strconv.FormatBool(forwarded.ForwardedLate)).Inc()
		h.logger.Info("appeal forwarded", "appeal", forwarded.Number, "district", district, "to", forwarded.ForwardedTo,
			"on_hub", forwarded.District != district, "late", forwarded.ForwardedLate)
	}
}

// dueDate is the n-th working day after the day of from, in Baku. Past the
// calendar's known years (the Cabinet has not announced them yet) it counts
// weekends only, and says so.
func (h *Hub) dueDate(from time.Time, n int) string {
	due, err := dueDate(h.validator.Calendar, from, n)
	if err != nil {
		h.logCalendarGap(err)
	}
	return due
}

// dueDate is Hub.dueDate on cal; err: it counted weekends only.
func dueDate(cal *calendar.Calendar, from time.Time, n int) (string, error) {
	due, err := cal.AddWorkingDays(from, n)
	if err != nil {
		due = addWeekdays(from, n)
	}
	return due.In(Baku).Format(time.DateOnly), err
}

func (h *Hub) logCalendarGap(err error) {
	h.logger.Error("holiday calendar does not cover the deadline; counting weekends only: add the year's holidays file", "error", err)
}

// joinNotes puts the hub's words after the authority's own, on a line of
// their own.
func joinNotes(district, hub string) string {
	if district == "" {
		return hub
	}
	return district + "\n" + hub
}
