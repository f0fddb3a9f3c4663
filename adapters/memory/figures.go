package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// The monitors' figures (routers.FiguresLedger), counted afresh from
// every appeal at each question: the demo's ledger is small, and counting
// from what the hub wrote is the definition PostgreSQL's roll-up must
// agree with (routers/ledgertest).

var _ routers.FiguresLedger = (*Ledger)(nil)

// refusedRequest is an invalid request as the figures count it.
type refusedRequest struct {
	at       time.Time
	district string
	field    string
}

// in reports whether t is in p.
func in(p routers.Period, t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// open reports whether a awaits an answer, as DistrictStats counts it.
func open(a *routers.Appeal) bool {
	switch a.Status {
	case routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress:
		return true
	}
	return a.InTransfer()
}

// Figures implements routers.FiguresLedger.
func (l *Ledger) Figures(ctx context.Context, p routers.Period, today, dueSoonBy string) (map[string]routers.Figures, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("figures: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tallies := l.tally(p, today, dueSoonBy)
	out := make(map[string]routers.Figures, len(tallies))
	for code, t := range tallies {
		out[code] = t.Done()
	}
	return out, nil
}

// DistrictFigures implements routers.FiguresLedger.
func (l *Ledger) DistrictFigures(ctx context.Context, district string, p routers.Period, today, dueSoonBy string) (routers.Figures, error) {
	if err := ctx.Err(); err != nil {
		return routers.Figures{}, fmt.Errorf("district figures: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.tally(p, today, dueSoonBy)[district]; ok && district != "" {
		return t.Done(), nil
	}
	return routers.NewTally(district).Done(), nil
}

// tally counts every figure of p, by district and under "" for the
// country; the caller holds l.mu.
func (l *Ledger) tally(p routers.Period, today, dueSoonBy string) map[string]*routers.Tally {
	tallies := map[string]*routers.Tally{"": routers.NewTally("")}
	// each calls fn with the tally of code and the country's.
	each := func(code string, fn func(*routers.Tally)) {
		if code != "" {
			t, ok := tallies[code]
			if !ok {
				t = routers.NewTally(code)
				tallies[code] = t
			}
			fn(t)
		}
		fn(tallies[""])
	}
	for _, a := range l.appeals {
		if in(p, a.RegisteredAt) {
			repeat := l.repeats(a)
			each(l.filed[a.Number], func(t *routers.Tally) {
				t.Registered++
				t.ByType[a.Type]++
				t.ByService[a.Service]++
				if repeat {
					t.Repeat++
				}
			})
		}
		if m := a.Milestones; !m.AnsweredAt.IsZero() && in(p, m.AnsweredAt) {
			each(a.District, func(t *routers.Tally) {
				t.Answered++
				t.Answers[m.AnswerDays]++
				if m.OnTime {
					t.AnsweredOnTime++
				}
			})
		}
		if a.Extended && in(p, a.ExtendedAt) {
			each(a.District, func(t *routers.Tally) { t.Extended++ })
		}
		if !a.ForwardedAt.IsZero() && in(p, a.ForwardedAt) {
			each(a.ForwardedBy, func(t *routers.Tally) {
				t.Forwarded++
				if a.ForwardedLate {
					t.ForwardedLate++
				}
			})
		}
		if open(a) {
			each(a.District, func(t *routers.Tally) {
				t.Open++
				switch {
				case a.Deadline < today:
					t.Overdue++
				case a.Deadline <= dueSoonBy:
					t.DueSoon++
				}
			})
		}
		if a.Delivery.State == routers.DeliveryPending {
			each(a.District, func(t *routers.Tally) { t.PendingDeliveries++ })
		}
	}
	for _, r := range l.refused {
		if in(p, r.at) {
			each(r.district, func(t *routers.Tally) {
				t.Invalid++
				t.Refused[r.field]++
			})
		}
	}
	for _, dl := range l.dead {
		if dl.State != routers.DeadLetterOpen {
			continue
		}
		district := "" // a poison letter is no district's
		if a, ok := l.appeals[dl.AppealNumber]; ok {
			district = a.District
		}
		each(district, func(t *routers.Tally) { t.DeadLetters++ })
	}
	return tallies
}

// repeats reports whether the same citizen filed with a's district for
// a's service within the year before a; the caller holds l.mu.
func (l *Ledger) repeats(a *routers.Appeal) bool {
	since := a.RegisteredAt.AddDate(-1, 0, 0)
	for _, number := range l.byFIN[a.FIN] {
		b := l.appeals[number]
		if b.RegisteredAt.Before(a.RegisteredAt) && !b.RegisteredAt.Before(since) &&
			l.filed[number] == l.filed[a.Number] && b.Service == a.Service {
			return true
		}
	}
	return false
}

// AppealsPerDay implements routers.FiguresLedger.
func (l *Ledger) AppealsPerDay(ctx context.Context, district string, p routers.Period) ([]routers.DayCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("appeals per day: %w", err)
	}
	var out []routers.DayCount
	index := map[string]int{}
	for d := calendar.Day(p.From); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(out)
		out = append(out, routers.DayCount{Date: d.Format(time.DateOnly), ByType: map[string]int{}})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for number, a := range l.appeals {
		if !in(p, a.RegisteredAt) || district != "" && l.filed[number] != district {
			continue
		}
		if i, ok := index[calendar.Day(a.RegisteredAt).Format(time.DateOnly)]; ok {
			out[i].ByType[a.Type]++
		}
	}
	return out, nil
}

// Watched implements routers.FiguresLedger.
func (l *Ledger) Watched(ctx context.Context, district string, overdue bool, today, dueSoonBy string, limit int) ([]routers.WatchedAppeal, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watched appeals: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []routers.WatchedAppeal
	for _, a := range l.appeals {
		if a.District != district || !open(a) || overdue != (a.Deadline < today) || !overdue && a.Deadline > dueSoonBy {
			continue
		}
		out = append(out, routers.WatchedAppeal{
			Number: a.Number, District: a.District, Service: a.Service, Type: a.Type, Status: a.Status,
			RegisteredAt: a.RegisteredAt, Deadline: a.Deadline,
		})
	}
	slices.SortFunc(out, func(x, y routers.WatchedAppeal) int {
		return cmp.Or(cmp.Compare(x.Deadline, y.Deadline), cmp.Compare(x.Number, y.Number))
	})
	return out[:min(max(limit, 0), len(out))], nil
}

// Lifecycles implements routers.FiguresLedger; fn runs without the
// ledger's lock.
func (l *Ledger) Lifecycles(ctx context.Context, district string, p routers.Period, fn func(routers.Lifecycle) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lifecycles: %w", err)
	}
	l.mu.Lock()
	var list []routers.Lifecycle
	for number, a := range l.appeals {
		if !in(p, a.RegisteredAt) || district != "" && l.filed[number] != district {
			continue
		}
		m := a.Milestones
		list = append(list, routers.Lifecycle{
			Number: a.Number, District: a.District, Service: a.Service, Type: a.Type, Status: a.Status, Deadline: a.Deadline,
			RegisteredAt: a.RegisteredAt, DeliveredAt: m.DeliveredAt, InProgressAt: m.InProgressAt, AnsweredAt: m.AnsweredAt, ClosedAt: m.ClosedAt,
		})
	}
	l.mu.Unlock()
	slices.SortFunc(list, func(x, y routers.Lifecycle) int {
		return cmp.Or(x.RegisteredAt.Compare(y.RegisteredAt), cmp.Compare(x.Number, y.Number))
	})
	for _, c := range list {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}
