package routers

import (
	"time"

	"github.com/korpu-az/korpu/routers/calendar"
)

// Milestones are when the hub recorded an appeal's steps, for the
// monitors' figures and lifecycles (figures.go). Each is set once, by the
// update that takes the step, so the ledger keeps them in the statement it
// runs anyway. The times are the hub's clock, not the district's own: a
// day's figures must not change once the day is over, and a district may
// report a change days after it made it (ESD is polled, reconciliation
// asks later still). The law's measures, AnswerDays and OnTime, are taken
// at the district's time of the answer.
type Milestones struct {
	DeliveredAt  time.Time // first handed over (to the first district, if forwarded since)
	InProgressAt time.Time // the first in_progress
	// AnsweredAt: answered or rejected, or forwarded to a body that is not
	// on the hub (an appeal forwarded to a district on the hub is answered
	// there later).
	AnsweredAt time.Time
	ClosedAt   time.Time
	// AnswerDays are the working days after the day of registration up to
	// the day of the answer (0: answered on the day it was registered).
	AnswerDays int
	OnTime     bool // the answer's day is not after the deadline
}

// step is advance of a to status in the name of its request, and the
// milestone that status is: at is the time the event carries (the
// district's, for its reports), now the hub's clock.
func (h *Hub) step(a *Appeal, status Status, note string, at, now time.Time) StatusEvent {
	ev := advance(a, a.RequestID, status, note, at)
	a.took(h.validator.Calendar, status, a.RegisteredAt, a.Deadline, at, now)
	return ev
}

// answered records the answer given at at (the district's time), seen at
// now.
func (h *Hub) answered(a *Appeal, at, now time.Time) {
	a.answered(h.validator.Calendar, a.RegisteredAt, a.Deadline, at, now)
}

// took records the milestone a step to status is, once: at is the time
// the step's event carries, now the hub's clock, registered and deadline
// the appeal's as the event leaves them. The hub records its steps with
// it and `korpu audit verify` rebuilds milestones from a history with it
// (ChainVerifier), so both read one definition.
func (m *Milestones) took(cal *calendar.Calendar, status Status, registered time.Time, deadline string, at, now time.Time) {
	switch status {
	case StatusDelivered:
		if m.DeliveredAt.IsZero() {
			m.DeliveredAt = now
		}
	case StatusInProgress:
		if m.InProgressAt.IsZero() {
			m.InProgressAt = now
		}
	case StatusAnswered, StatusRejected:
		m.answered(cal, registered, deadline, at, now)
	case StatusClosed:
		if m.ClosedAt.IsZero() {
			m.ClosedAt = now
		}
	}
}

// answered records the answer given at at, seen at now, once.
func (m *Milestones) answered(cal *calendar.Calendar, registered time.Time, deadline string, at, now time.Time) {
	if !m.AnsweredAt.IsZero() {
		return
	}
	m.AnsweredAt = now
	m.AnswerDays, m.OnTime = AnswerDays(cal, registered, at, deadline)
}

// AnswerDays are the working days an answer given at at took after the
// registration at registered, on cal (weekdays only past its known years,
// as deadlines then are counted, and as the oversight sweep logs), and
// whether its day was not after deadline (YYYY-MM-DD).
func AnswerDays(cal *calendar.Calendar, registered, at time.Time, deadline string) (days int, onTime bool) {
	day := calendar.Day(at)
	days, _ = workingDaysLeft(cal, calendar.Day(registered), day)
	// max: a district may date its answer before the registration's day.
	return max(days, 0), day.Format(time.DateOnly) <= deadline
}
