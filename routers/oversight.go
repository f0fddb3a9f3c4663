package routers

import (
	"context"
	"errors"
	"time"

	"github.com/korpu-az/korpu/routers/calendar"
)

// The statutory clock's watch (issue 10): an open appeal (registered,
// delivered or in progress: no answer yet) is due soon with at most
// DueSoonWorkingDays working days left before its deadline, and overdue
// once its deadline is before today, in Baku. When an appeal crosses into
// either, the hub publishes one OversightEvent to the oversight queue for a
// notifier (an SMS to the head of the authority, an e-mail) to take.

// DueSoonWorkingDays is how many working days left make an open appeal due soon.
const DueSoonWorkingDays = 3

// OversightKind is the line an appeal crossed.
type OversightKind string

// Kinds of crossing, the milder first.
const (
	OversightDueSoon OversightKind = "due_soon"
	OversightOverdue OversightKind = "overdue"
)

// Crossing is an open appeal that has crossed into due soon or overdue, as
// the ledger claimed it.
type Crossing struct {
	Kind         OversightKind
	AppealNumber string
	District     string
	Service      string
	Status       Status
	Deadline     string // YYYY-MM-DD: the deadline the crossing is for
}

// OversightLedger is what the oversight sweep needs of the ledger.
type OversightLedger interface {
	// ClaimCrossings claims up to limit crossings, oldest deadline first,
	// and commits the message event makes for each together with the claim,
	// in one transaction. An open appeal has crossed when its deadline is
	// before today (overdue) or on or before dueSoonBy (due soon), both Baku
	// dates (YYYY-MM-DD), and no crossing of that kind or a graver one was
	// claimed for that same deadline: a new deadline (an extension) arms it
	// again. An appeal that skipped due soon (the hubs were down) crosses
	// into overdue only. However many claimers run at once, in however many
	// processes, each crossing is claimed once. event runs inside the
	// transaction and must not call the ledger.
	ClaimCrossings(ctx context.Context, today, dueSoonBy string, limit int, event func(Crossing) OutboxMessage) ([]Crossing, error)
}

// OversightEvent is one message on the oversight queue.
type OversightEvent struct {
	EventID      string        `json:"event_id"` // also the AMQP message_id: a repeat after a crash has the same
	Kind         OversightKind `json:"kind"`
	AppealNumber string        `json:"appeal_number"`
	District     string        `json:"district"`
	Service      string        `json:"service"`
	Deadline     string        `json:"deadline"`
	// WorkingDaysLeft counts the working days after today up to the
	// deadline (0: due today); for an overdue appeal it is the working days
	// since the deadline, negative (0 on a day off just past it).
	WorkingDaysLeft int    `json:"working_days_left"`
	Status          Status `json:"status"`
	At              string `json:"at"` // when the hub saw the crossing
}

// WatchDates are today's Baku date and the latest deadline that is due
// soon today (the day before the DueSoonWorkingDays+1-th working day after
// today), as FiguresLedger and OversightLedger take them. Past the
// calendar's known years it counts weekdays only, as deadlines then are,
// and returns the dates with an error wrapping calendar.ErrUnknownYear.
func WatchDates(cal *calendar.Calendar, now time.Time) (today, dueSoonBy string, err error) {
	day := calendar.Day(now)
	next, err := cal.AddWorkingDays(day, DueSoonWorkingDays+1)
	if err != nil {
		next = addWeekdays(day, DueSoonWorkingDays+1)
	}
	return day.Format(time.DateOnly), calendar.Day(next.AddDate(0, 0, -1)).Format(time.DateOnly), err
}

// workingDaysLeft is OversightEvent.WorkingDaysLeft of deadline on today
// (both Baku midnights), on weekdays only where the calendar has no list.
func workingDaysLeft(cal *calendar.Calendar, today, deadline time.Time) (int, error) {
	from, to, sign := today, deadline, 1
	if deadline.Before(today) {
		from, to, sign = deadline, today, -1
	}
	n := 0
	var unknown error
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		working, err := cal.IsWorkingDay(d)
		if err != nil {
			unknown = err
			working = d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		}
		if working {
			n++
		}
	}
	return sign * n, unknown
}

// oversightBatch is how many crossings one claim takes.
const oversightBatch = 200

// oversightLoop claims the crossings at start and every OversightInterval
// until ctx ends. Every hub runs it; the ledger's claim makes each crossing
// one event, whichever hub sees it first.
func (h *Hub) oversightLoop(ctx context.Context) error {
	tick := time.NewTicker(h.cfg.OversightInterval)
	defer tick.Stop()
	for {
		h.sweepOversight(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sweepOversight claims crossings, batch after batch while there are more.
func (h *Hub) sweepOversight(ctx context.Context) {
	now := h.now()
	cal := h.validator.Calendar
	today, dueSoonBy, err := WatchDates(cal, now)
	if err != nil {
		h.logger.Error("holiday calendar does not cover the due-soon window; counting weekends only: add the year's holidays file", "error", err)
	}
	todayDay := calendar.Day(now)
	for {
		claimed, err := h.oversightLedger.ClaimCrossings(ctx, today, dueSoonBy, oversightBatch, func(c Crossing) OutboxMessage {
			return h.cfg.Topics.oversightMessage(h.oversightEvent(cal, c, todayDay, now))
		})
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				h.logger.Warn("oversight sweep failed", "error", err)
			}
			return
		}
		if len(claimed) > 0 {
			h.committed()
		}
		for _, c := range claimed {
			h.metrics.Oversight.WithLabelValues(string(c.Kind), c.District).Inc()
			h.logger.Info("appeal crossed a statutory line", "kind", c.Kind, "appeal", c.AppealNumber, "district", c.District,
				"deadline", c.Deadline, "status", c.Status)
		}
		if len(claimed) < oversightBatch {
			return
		}
	}
}

// oversightEvent is the event of crossing c, seen at now on Baku day today.
func (h *Hub) oversightEvent(cal *calendar.Calendar, c Crossing, today, now time.Time) OversightEvent {
	ev := OversightEvent{
		EventID: newEventID(), Kind: c.Kind, AppealNumber: c.AppealNumber, District: c.District, Service: c.Service,
		Deadline: c.Deadline, Status: c.Status, At: FormatTime(now),
	}
	deadline, err := time.ParseInLocation(time.DateOnly, c.Deadline, Baku)
	if err != nil {
		// The ledger keeps deadlines as dates: unreachable, and no reason to
		// withhold the event.
		h.logger.Error("appeal's deadline is no date", "appeal", c.AppealNumber, "deadline", c.Deadline)
		return ev
	}
	ev.WorkingDaysLeft, _ = workingDaysLeft(cal, today, deadline) // an unknown year is logged by the sweep
	return ev
}

// oversightMessage is the outbox message that publishes ev, persistent (as
// every message of the hub), its event id as message_id.
func (t Topics) oversightMessage(ev OversightEvent) OutboxMessage {
	return jsonMessage(t.Oversight, ev.EventID, ev, nil)
}
