package routers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PollingLedger is what polling and reconciling districts that cannot call
// back needs of the ledger.
type PollingLedger interface {
	// PollCursor returns where polling a district's changes resumes (zero:
	// never polled).
	PollCursor(ctx context.Context, district string) (time.Time, error)
	// SetPollCursor records where polling a district's changes resumes.
	SetPollCursor(ctx context.Context, district string, at time.Time) error
	// StaleAppeals returns up to limit appeals of district that were
	// delivered, are not closed, and that the ledger last changed before
	// before, least recently changed first.
	StaleAppeals(ctx context.Context, district string, before time.Time, limit int) ([]Appeal, error)
	// UpdateAppeal: see DeliveryLedger.
	UpdateAppeal(ctx context.Context, number string, fn func(*Appeal) (Effects, error)) error
}

const (
	pollPage = 100 // changes asked for per DeyisiklikleriAl
	// firstPollLookback: a district never polled before is asked for the
	// changes of the last day, which covers appeals delivered before a
	// restart wiped nothing (the cursor is durable) or a first start.
	firstPollLookback = 24 * time.Hour
	reconcileBatch    = 50
	// maxPollLimit ends a round whose page does not move past its start
	// even this large: a district that keeps saying "more" without moving
	// on must not be asked for ever bigger pages.
	maxPollLimit = 64 * pollPage
)

// Polled is a district whose system the hub must poll.
type Polled struct {
	Poller   Poller
	Interval time.Duration
}

// pollLoop asks one district's system for changes every interval until ctx
// ends. Each district has its own loop, so a slow or dead one delays only
// itself.
func (h *Hub) pollLoop(ctx context.Context, district string, p Polled) {
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	for {
		if err := h.pollOnce(ctx, district, p.Poller); err != nil && ctx.Err() == nil {
			h.metrics.PollErrors.WithLabelValues(district).Inc()
			h.logger.Warn("polling district failed", "district", district, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pollOnce follows the district's changes from the durable cursor, page by
// page. The cursor moves only after a page is applied; ESD repeats the
// changes of the instant it resumes from, and applying a state the appeal
// already has changes nothing, so repeats never become events.
func (h *Hub) pollOnce(ctx context.Context, district string, poller Poller) error {
	since, err := h.pollingLedger.PollCursor(ctx, district)
	if err != nil {
		return err
	}
	if now := h.now(); since.IsZero() {
		since = now.Add(-firstPollLookback)
	} else if since.After(now) {
		since = now // a cursor a district's clock once pushed ahead
	}
	limit := pollPage
	for {
		page, err := poller.Changes(ctx, since, limit)
		if err != nil {
			return err
		}
		for _, ch := range page.Changes {
			if err := h.applyPolled(ctx, district, ch); err != nil {
				return err
			}
		}
		h.metrics.PollChanges.WithLabelValues(district).Add(float64(len(page.Changes)))
		// The cursor never passes the hub's clock: a change dated ahead of
		// it would otherwise hide every real change until that date. Such a
		// change is refused until the clock reaches it (checkDistrictTime),
		// so it is asked for again; the rest waits for the next round.
		next, ahead := page.Next, false
		if now := h.now(); next.After(now) {
			next, ahead = now, true
		}
		switch {
		case next.After(since):
			since, limit = next, pollPage
			if err := h.pollingLedger.SetPollCursor(ctx, district, since); err != nil {
				return err
			}
		case page.More && !ahead:
			// One instant holds more changes than a page: ask for a bigger one.
			if limit >= maxPollLimit {
				return fmt.Errorf("district %s says more changes follow %s but its pages do not move on, even %d long", district, FormatTime(since), limit)
			}
			limit *= 2
		}
		if !page.More || ahead {
			return nil
		}
	}
}

// applyPolled applies one polled change; repeats and stale states are
// expected (ESD repeats the last instant) and change nothing.
func (h *Hub) applyPolled(ctx context.Context, district string, ch DistrictChange) error {
	_, err := h.applyChange(ctx, district, ch, true)
	switch {
	case err == nil, errors.Is(err, ErrBackwardStep), errors.Is(err, ErrForwardConflict):
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForeignAppeal):
		// Not an appeal the hub gave this district: log it, never stop polling for it.
		h.logger.Warn("district reported a change of an unknown appeal", "district", district, "appeal", ch.AppealNumber, "reference", ch.Reference, "error", err)
		return nil
	case errors.Is(err, ErrDistrictInput):
		// Refused whole, not cut to fit: a shortened or cleaned note would
		// put words in the authority's mouth. Stopping here would stall the
		// district's polling on one bad change, so polling goes on; the
		// error names the field, never quotes the value.
		h.logger.Warn("district sent a change the hub refuses", "district", district, "appeal", loggable(ch.AppealNumber), "status", ch.Status, "error", err)
		return nil
	case IsPermanent(err):
		// The store refused the change (ErrDataRefused): no retry mends it,
		// and the polls after it must not stall on it.
		h.logger.Error("the ledger refuses a polled change", "district", district, "appeal", loggable(ch.AppealNumber), "status", ch.Status, "error", err)
		return nil
	default:
		return err
	}
}

// reconcileLoop checks, one by one, appeals that have not changed for long
// against the district's own state, so the hub and the district never
// disagree silently.
func (h *Hub) reconcileLoop(ctx context.Context, district string, poller Poller) {
	tick := time.NewTicker(h.cfg.ReconcileInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := h.reconcileOnce(ctx, district, poller); err != nil && ctx.Err() == nil {
			h.logger.Warn("reconciliation failed", "district", district, "error", err)
		}
	}
}

func (h *Hub) reconcileOnce(ctx context.Context, district string, poller Poller) error {
	stale, err := h.pollingLedger.StaleAppeals(ctx, district, h.now().Add(-h.cfg.ReconcileAfter), reconcileBatch)
	if err != nil {
		return err
	}
	for _, a := range stale {
		if a.DistrictRef == "" {
			continue // delivered by a callback before the reference was known
		}
		state, err := poller.State(ctx, a.DistrictRef)
		if IsPermanent(err) || errors.Is(err, ErrNotFound) {
			// This appeal cannot be checked (unknown to the district): say so
			// and move on, or it would head every round and block the others.
			h.metrics.Reconciled.WithLabelValues(district, "unknown_to_district").Inc()
			h.logger.Error("reconciliation: the district does not know the appeal", "appeal", a.Number, "district", district, "error", err)
			if err := h.pollingLedger.UpdateAppeal(ctx, a.Number, func(*Appeal) (Effects, error) { return Effects{}, nil }); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		state.AppealNumber = a.Number
		changed, err := h.applyChange(ctx, district, state, true)
		switch {
		case changed:
			h.metrics.Reconciled.WithLabelValues(district, "corrected").Inc()
			h.logger.Warn("reconciliation corrected an appeal the hub had missed", "appeal", a.Number, "district", district, "status", state.Status)
		case errors.Is(err, ErrBackwardStep):
			// The hub is ahead of the district's system: nothing the hub may
			// undo, but a monitor must see it.
			h.metrics.Reconciled.WithLabelValues(district, "hub_ahead").Inc()
			h.logger.Error("district system is behind the hub", "appeal", a.Number, "district", district, "hub", a.Status, "district_state", state.Status)
			err = nil
		case errors.Is(err, ErrDistrictInput):
			// Refused as a polled change is; marked checked so it does not
			// head every round.
			h.metrics.Reconciled.WithLabelValues(district, "refused").Inc()
			h.logger.Warn("reconciliation: the district's state is refused", "appeal", a.Number, "district", district, "error", err)
			err = nil
		default:
			h.metrics.Reconciled.WithLabelValues(district, "agreed").Inc()
		}
		if err != nil {
			return err
		}
		// Mark it checked so the next round moves on to others.
		if err := h.pollingLedger.UpdateAppeal(ctx, a.Number, func(*Appeal) (Effects, error) { return Effects{}, nil }); err != nil {
			return err
		}
	}
	return nil
}
