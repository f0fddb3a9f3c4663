package routers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StatusLedger is what a district's status reports need of the ledger.
type StatusLedger interface {
	// UpdateAppeal: see DeliveryLedger.
	UpdateAppeal(ctx context.Context, number string, fn func(*Appeal) (Effects, error)) error
}

// Errors of a district's status report, each mapped to an HTTP status by the API.
var (
	// ErrForeignAppeal: the appeal belongs to another district (404, as
	// for an unknown one: a district learns nothing of others' numbers).
	ErrForeignAppeal = errors.New("the appeal belongs to another district")
	// ErrBackwardStep: the change would move the appeal back (409).
	ErrBackwardStep = errors.New("status change goes backwards")
	// ErrBadStatus: not a status a district may report (422).
	ErrBadStatus = errors.New("not a status a district may report")
	// ErrNotDelivered: the district has not acknowledged the appeal and no
	// hand-over is under way, so it cannot know the appeal yet (409).
	ErrNotDelivered = errors.New("the appeal has not been delivered to the district yet")
)

// StatusReport is a district's report of progress on one appeal (contract §4).
type StatusReport struct {
	District     string
	AppealNumber string
	Status       Status
	Note         string
	At           time.Time
	// Since contract v1.1: Extend with Reason on in_progress extends the
	// deadline once; ForwardedTo names the competent body on forwarded.
	Extend      bool
	Reason      string
	ForwardedTo string
}

// ReportStatus applies a district's report. A report repeating the current
// status is accepted and changes nothing, so a district may safely retry.
// A callback is no acknowledgement of receipt: only the district's answer
// to Submit is. So a report on an appeal whose hand-over is neither
// acknowledged nor under way is ErrNotDelivered and changes nothing, and one
// that overtakes the answer of a Submit in flight moves the status but
// leaves the delivery to go on until the district acknowledges it.
func (h *Hub) ReportStatus(ctx context.Context, r StatusReport) error {
	if !DistrictStatuses[r.Status] {
		return fmt.Errorf("%w: %q", ErrBadStatus, r.Status)
	}
	if err := checkReport(r); err != nil {
		return h.refused(r.District, err)
	}
	_, err := h.applyChange(ctx, r.District, DistrictChange{
		AppealNumber: r.AppealNumber, Status: r.Status, Note: r.Note, At: r.At,
		Extend: r.Extend, Reason: r.Reason, ForwardedTo: r.ForwardedTo,
	}, false)
	if errors.Is(err, ErrNotDelivered) {
		h.logger.Warn("district reported status of an appeal it has not acknowledged", "appeal", r.AppealNumber, "district", r.District, "status", r.Status)
	}
	return err
}

// applyChange moves an appeal to the state its district reports and tells
// whether anything changed. A report of the current state changes nothing; an
// older one is ErrBackwardStep. A report that comes before the hub recorded
// the delivery (the district answered faster than the hub wrote down its
// acceptance, or ESD's own "registered") first records "delivered", so the
// portal never sees a step skipped or reversed. acknowledges tells whether
// the change is the district system's own record of the appeal (a polled
// change, with its reference), which settles the delivery; a callback only
// moves the status, and only while the hand-over is acknowledged or under way.
//
// A change whose text or time is out of bounds is refused whole, with a
// *DistrictInputError, before anything is stored.
//
// The steps are those of the appeal's current authority (Appeal.stage): an
// appeal forwarded to another district on the hub starts there again from
// "registered", and the district that forwarded it may no longer touch it
// (but for repeating that forwarding). An extension on an appeal already in
// progress is an in_progress event of its own, carrying the new deadline.
func (h *Hub) applyChange(ctx context.Context, district string, ch DistrictChange, acknowledges bool) (bool, error) {
	if err := checkDistrictText(ch); err != nil {
		return false, h.refused(district, err)
	}
	now := h.now()
	at := ch.At
	if at.IsZero() {
		at = now
	}
	changed := false
	var forwarded *Appeal // the appeal as forwarded, for the counters
	err := h.statusLedger.UpdateAppeal(ctx, ch.AppealNumber, func(a *Appeal) (Effects, error) {
		forwarded = nil
		if a.District != district {
			if repeatsForward(a, district, ch) {
				return Effects{}, nil
			}
			return Effects{}, ErrForeignAppeal
		}
		if err := checkDistrictTime(ch.At, a.RegisteredAt, now); err != nil {
			return Effects{}, err
		}
		if !acknowledges && a.Delivery.State != DeliveryDelivered && !a.Delivery.InFlight() {
			return Effects{}, fmt.Errorf("%w: %s", ErrNotDelivered, a.Number)
		}
		if ch.Reference != "" && a.DistrictRef == "" {
			a.DistrictRef = ch.Reference
		}
		current := a.stage()
		if err := checkStatutory(a, current, ch); err != nil {
			return Effects{}, err
		}
		switch {
		case current == ch.Status && ch.Extend: // extended while in progress: an event of its own
		case current == ch.Status:
			return Effects{}, nil
		case rank[ch.Status] <= rank[current]:
			return Effects{}, fmt.Errorf("%w: %s → %s", ErrBackwardStep, current, ch.Status)
		}
		var events []StatusEvent
		var jobs []OutboxMessage
		if current == StatusRegistered {
			if acknowledges {
				a.Delivery = Delivery{State: DeliveryDelivered, Attempts: a.Delivery.Attempts}
			}
			note := ""
			if ch.Status == StatusDelivered {
				note = ch.Note
			}
			if a.DistrictRef != "" {
				note = referenceNote(a.DistrictRef)
			}
			events = append(events, h.step(a, StatusDelivered, note, at, now))
		}
		note := ch.Note
		if ch.Extend {
			note = h.extend(a, ch, at) // before the event, which carries the new deadline
		}
		switch ch.Status {
		case StatusDelivered:
		case StatusForwarded:
			ev, job := h.forward(a, ch, at, now)
			events = append(events, ev)
			if job != nil {
				jobs = append(jobs, *job)
			}
			copied := *a
			forwarded = &copied
		default:
			events = append(events, h.step(a, ch.Status, note, at, now))
		}
		changed = true
		effects := h.cfg.Topics.events(events...)
		effects.Messages = append(effects.Messages, jobs...)
		return effects, nil
	})
	if err != nil {
		return false, h.refused(district, err)
	}
	if changed {
		h.committed()
		h.metrics.Statuses.WithLabelValues(district, string(ch.Status)).Inc()
		h.reported(district, now)
		h.countStatutory(district, ch.Extend, forwarded)
		h.logger.Info("district reported status", "appeal", ch.AppealNumber, "district", district, "status", ch.Status, "extend", ch.Extend)
	}
	return changed, nil
}

// referenceNote tells the citizen the district's own number of the appeal.
func referenceNote(ref string) string {
	return Bilingual("Rayon sistemində nömrə: "+ref, "district reference: "+ref)
}
