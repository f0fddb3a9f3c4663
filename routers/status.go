package routers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of a district's status report, each mapped to an HTTP status by the API.
var (
	// ErrForeignAppeal: the appeal belongs to another district (403).
	ErrForeignAppeal = errors.New("the appeal belongs to another district")
	// ErrBackwardStep: the change would move the appeal back (409).
	ErrBackwardStep = errors.New("status change goes backwards")
	// ErrBadStatus: not a status a district may report (422).
	ErrBadStatus = errors.New("not a status a district may report")
)

// StatusReport is a district's report of progress on one appeal (contract §4).
type StatusReport struct {
	District     string
	AppealNumber string
	Status       Status
	Note         string
	At           time.Time
}

// ReportStatus applies a district's report. A report repeating the current
// status is accepted and changes nothing, so a district may safely retry. A
// report on an appeal whose delivery the hub has not recorded yet (the
// district answered faster than the hub wrote it down) first records
// "delivered", so the portal never sees a step skipped or reversed.
func (h *Hub) ReportStatus(ctx context.Context, r StatusReport) error {
	if !DistrictStatuses[r.Status] {
		return fmt.Errorf("%w: %q", ErrBadStatus, r.Status)
	}
	at := r.At
	if at.IsZero() {
		at = h.now()
	}
	changed := false
	err := h.ledger.UpdateAppeal(ctx, r.AppealNumber, func(a *Appeal) (Effects, error) {
		if a.District != r.District {
			return Effects{}, ErrForeignAppeal
		}
		if a.Status == r.Status {
			return Effects{}, nil
		}
		if rank[r.Status] <= rank[a.Status] {
			return Effects{}, fmt.Errorf("%w: %s → %s", ErrBackwardStep, a.Status, r.Status)
		}
		var events []StatusEvent
		if a.Status == StatusRegistered {
			a.Delivery = Delivery{State: DeliveryDelivered, Attempts: a.Delivery.Attempts}
			events = append(events, advance(a, a.RequestID, StatusDelivered, "", at))
		}
		events = append(events, advance(a, a.RequestID, r.Status, r.Note, at))
		changed = true
		return h.cfg.Topics.events(events...), nil
	})
	if err != nil {
		return err
	}
	if changed {
		h.committed()
		h.metrics.Statuses.WithLabelValues(r.District, string(r.Status)).Inc()
		h.logger.Info("district reported status", "appeal", r.AppealNumber, "district", r.District, "status", r.Status)
	}
	return nil
}
