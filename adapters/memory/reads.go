package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// AppealsOf implements routers.InquiryLedger.
func (l *Ledger) AppealsOf(ctx context.Context, fin string, filter routers.HistoryFilter, after routers.HistoryPosition, limit int) ([]routers.AppealSummary, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("appeals of a citizen: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var list []routers.AppealSummary
	for _, number := range l.byFIN[fin] {
		a := l.appeals[number]
		if filter.Status != "" && a.Status != filter.Status || filter.Service != "" && a.Service != filter.Service {
			continue
		}
		if !after.IsZero() && newerFirst(a.RegisteredAt, a.Number, after.RegisteredAt, after.Number) <= 0 {
			continue // not strictly after the position
		}
		changed, err := l.lastChange(*a)
		if err != nil {
			return nil, err
		}
		list = append(list, routers.AppealSummary{
			Number: a.Number, District: a.District, Service: a.Service, Type: a.Type, Status: a.Status,
			SubmittedAt: a.SubmittedAt, RegisteredAt: a.RegisteredAt, Deadline: a.Deadline, ChangedAt: changed,
		})
	}
	slices.SortFunc(list, func(x, y routers.AppealSummary) int {
		return newerFirst(x.RegisteredAt, x.Number, y.RegisteredAt, y.Number)
	})
	return list[:min(max(limit, 0), len(list))], nil
}

// newerFirst orders appeals as a citizen's history lists them: by
// registration, then number, both descending.
func newerFirst(atX time.Time, numberX string, atY time.Time, numberY string) int {
	return cmp.Or(atY.Compare(atX), cmp.Compare(numberY, numberX))
}

// lastChange is the time of a's last event; the caller holds l.mu.
func (l *Ledger) lastChange(a routers.Appeal) (time.Time, error) {
	ev, ok := l.history[a.Number][a.Sequence]
	if !ok {
		return time.Time{}, nil
	}
	at, err := time.Parse(time.RFC3339, ev.At)
	if err != nil {
		return time.Time{}, fmt.Errorf("appeal %s: last event's time: %w", a.Number, err)
	}
	return at, nil
}

// AppealRecord implements routers.InquiryLedger.
func (l *Ledger) AppealRecord(ctx context.Context, number string) (routers.AppealRecord, error) {
	if err := ctx.Err(); err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal record: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.appeals[number]
	if !ok {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: %w", number, routers.ErrNotFound)
	}
	rec := routers.AppealRecord{Appeal: cloneAppeal(*a)}
	for _, seq := range slices.Sorted(maps.Keys(l.history[number])) {
		rec.Events = append(rec.Events, cloneEvent(l.history[number][seq]))
		rec.Head = routers.ChainLink{Sequence: seq, Hash: slices.Clone(l.hashes[number][seq])}
	}
	for _, id := range l.remarks[number] {
		rec.Comments = append(rec.Comments, *l.comments[id]) // a Comment holds no references
	}
	slices.SortFunc(rec.Comments, func(x, y routers.Comment) int {
		return cmp.Or(x.SubmittedAt.Compare(y.SubmittedAt), cmp.Compare(x.ID, y.ID))
	})
	return rec, nil
}

// Booked implements routers.InquiryLedger.
func (l *Ledger) Booked(ctx context.Context, officialID string, days []string) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bookings of %s: %w", officialID, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, day := range days {
		if n := l.booked[bookingKey{officialID, day}]; n > 0 {
			out[day] = n
		}
	}
	return out, nil
}
