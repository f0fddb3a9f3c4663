package routers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Backfill writes a past into a fresh ledger through the hub's own paths:
// each portal message goes through intake's validation and registration,
// each district change through the path of a polled change (which also
// settles the delivery, as a district's acknowledgement does). The hub's
// clock is set to every step's instant by pin, so that everything the
// ledger records carries the step's time. The demo uses it to start with
// months of history; nothing else may run on the hub meanwhile.

// PastAppeal is one portal message and what its district did with it.
type PastAppeal struct {
	At      time.Time // when the message arrived
	Body    []byte    // the portal's message (its signature is not checked)
	Changes []PastChange
}

// PastChange is one district change to the appeal PastAppeal's message
// registered.
type PastChange struct {
	District string // who reports it; "" for the district the appeal was registered in
	Change   DistrictChange
}

// BackfillSummary counts what Backfill wrote.
type BackfillSummary struct {
	Registered, Invalid, Changes int
}

// Backfill applies the messages and changes in time order, setting the
// clock with pin before each. A change whose appeal was not registered
// (its message was invalid) is skipped; one the hub refuses fails it all,
// since the plan was meant to be possible.
func (h *Hub) Backfill(ctx context.Context, past []PastAppeal, pin func(time.Time)) (BackfillSummary, error) {
	type step struct {
		at     time.Time
		appeal int
		change int // -1: the message itself
	}
	var steps []step
	for i, p := range past {
		steps = append(steps, step{at: p.At, appeal: i, change: -1})
		for j, c := range p.Changes {
			steps = append(steps, step{at: c.Change.At, appeal: i, change: j})
		}
	}
	slices.SortStableFunc(steps, func(x, y step) int { return x.at.Compare(y.at) })
	numbers := make([]string, len(past))
	districts := make([]string, len(past))
	var sum BackfillSummary
	for _, s := range steps {
		pin(s.at)
		p := past[s.appeal]
		if s.change < 0 {
			number, district, err := h.backfillMessage(ctx, p.Body, s.at)
			if err != nil {
				return sum, fmt.Errorf("message at %s: %w", FormatTime(s.at), err)
			}
			numbers[s.appeal], districts[s.appeal] = number, district
			if number == "" {
				sum.Invalid++
			} else {
				sum.Registered++
			}
			continue
		}
		if numbers[s.appeal] == "" {
			continue
		}
		c := p.Changes[s.change]
		c.Change.AppealNumber = numbers[s.appeal]
		district := cmp.Or(c.District, districts[s.appeal])
		if _, err := h.applyChange(ctx, district, c.Change, true); err != nil {
			return sum, fmt.Errorf("%s %s by %s at %s: %w", c.Change.AppealNumber, c.Change.Status, district, FormatTime(s.at), err)
		}
		sum.Changes++
	}
	return sum, nil
}

// backfillMessage is intake without the transport: the number and district
// of the appeal registered, or "" when the message was answered invalid.
func (h *Hub) backfillMessage(ctx context.Context, body []byte, now time.Time) (number, district string, err error) {
	req, errs, err := h.validator.Decode(body, now)
	var permanent *PermanentError
	switch {
	case errors.As(err, &permanent):
		return "", "", nil // a message for the poison queue leaves no trace in the ledger
	case err != nil:
		return "", "", err
	case len(errs) > 0:
		return "", "", h.reject(ctx, req, errs, now)
	case req.Kind != "request":
		return "", "", errors.New("only requests can be backfilled")
	}
	number, err = h.register(ctx, req, body, now)
	return number, req.District, err
}
