package routers

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"
)

// The central monitors' figures (issue 10): what the dashboard at /monitor
// and the gauges on /metrics show, per district and for the country. These
// are the types and the port; the ledgers compute them from indexed queries
// or maintained roll-ups, never by scanning every appeal per page view.

// Period is a span of Baku days, From inclusive, To exclusive (both
// midnight in Baku).
type Period struct {
	From, To time.Time
}

// Figures are one district's (or the country's) numbers over a period.
// Received, registered and invalid count requests that arrived in the
// period; open, due soon and overdue are as of now; the answer figures
// count appeals answered in the period.
type Figures struct {
	District string // "" for the country

	Received   int // registered + invalid
	Registered int
	Invalid    int
	TopInvalid []ReasonCount // the most frequent refusals, most first

	ByType    map[string]int // complaint, application, proposal → registered
	ByService map[string]int // service code → registered

	Open    int // no answer yet
	DueSoon int // open with at most 3 working days left
	Overdue int // open past the deadline

	Answered       int     // answered, rejected or forwarded in the period
	AnsweredOnTime int     // of those, by the deadline
	AnswerDaysP50  float64 // working days from registration to answer
	AnswerDaysP90  float64

	Forwarded     int
	ForwardedLate int // more than 3 working days after registration
	Extended      int
	Repeat        int // same citizen, district and service within a year before

	PendingDeliveries int
	DeadLetters       int // open dead letters

	Population int // residents, from the operator's population file; 0 unknown
}

// OnTimeShare is the share of answers given by the deadline, 0…1; 0 when
// nothing was answered.
func (f Figures) OnTimeShare() float64 {
	if f.Answered == 0 {
		return 0
	}
	return float64(f.AnsweredOnTime) / float64(f.Answered)
}

// PerThousand is appeals registered per 1,000 residents; 0 when the
// population is unknown.
func (f Figures) PerThousand() float64 {
	if f.Population == 0 {
		return 0
	}
	return float64(f.Registered) * 1000 / float64(f.Population)
}

// ReasonCount is how often one field was the reason of a refusal.
type ReasonCount struct {
	Field string
	Count int
}

// DayCount is one Baku day's registered appeals by type.
type DayCount struct {
	Date   string // YYYY-MM-DD
	ByType map[string]int
}

// WatchedAppeal is one line of a district's due-soon or overdue list.
type WatchedAppeal struct {
	Number       string
	District     string
	Service      string
	Type         string
	Status       Status
	RegisteredAt time.Time
	Deadline     string // YYYY-MM-DD
}

// Lifecycle is one appeal's row of the monitors' CSV export: when it
// reached each step; a zero time is a step not reached.
type Lifecycle struct {
	Number       string
	District     string
	Service      string
	Type         string
	Status       Status
	Deadline     string
	RegisteredAt time.Time
	DeliveredAt  time.Time
	InProgressAt time.Time // the first in_progress
	AnsweredAt   time.Time // answered, rejected or forwarded
	ClosedAt     time.Time
}

// TopInvalidReasons is how many refusals Figures.TopInvalid lists.
const TopInvalidReasons = 5

// FiguresLedger is what the monitors' figures need of the ledger. today
// and dueSoonBy are Baku dates (YYYY-MM-DD): an open appeal is overdue
// when its deadline is before today, due soon when not overdue and its
// deadline is on or before dueSoonBy.
//
// Which district a figure counts for, and by which time:
//   - received, registered, invalid, by type, by service, repeat: requests
//     that arrived in the period (the hub's clock), by the district they were
//     filed with (an appeal forwarded since still counts where it was
//     registered; an invalid request for a district the hub does not serve
//     counts for the country only);
//   - open, due soon, overdue, pending deliveries, dead letters: now, by the
//     district that holds the appeal;
//   - answered, on time, answer days: answers the hub recorded in the period
//     (Milestones.AnsweredAt), by the district that answered;
//   - forwarded and forwarded late: the latest forwarding of each appeal
//     whose time (the district's) is in the period, by the district that
//     forwarded it; extended: extensions dated in the period, by the district
//     that holds the appeal.
type FiguresLedger interface {
	// Figures returns the figures over p of each district that has any, by
	// code, and under "" those of the country: every district together,
	// with the invalid requests that named no district the hub serves, and
	// the answer-time percentiles of all answers together.
	Figures(ctx context.Context, p Period, today, dueSoonBy string) (map[string]Figures, error)
	// DistrictFigures returns one district's figures over p, as Figures
	// would; all zero (but District) for a district without any.
	DistrictFigures(ctx context.Context, district string, p Period, today, dueSoonBy string) (Figures, error)
	// AppealsPerDay returns the registered appeals of each day of p by
	// type, for one district or all (""): every day, oldest first, zeros
	// included.
	AppealsPerDay(ctx context.Context, district string, p Period) ([]DayCount, error)
	// Watched returns up to limit open appeals of the district that are
	// overdue (overdue true) or due soon, oldest deadline first, then by
	// number.
	Watched(ctx context.Context, district string, overdue bool, today, dueSoonBy string, limit int) ([]WatchedAppeal, error)
	// Lifecycles calls fn with each appeal filed with the district (all:
	// "") registered in p, in registration order (then by number), until
	// fn returns an error, which Lifecycles returns.
	Lifecycles(ctx context.Context, district string, p Period, fn func(Lifecycle) error) error
}

// AnswerHistogram counts answers by their working days from registration;
// both ledgers keep the answer days whole, so their percentiles come from
// one computation (Percentile).
type AnswerHistogram map[int]int

// Percentile is the q-quantile (0…1) of the answer days, interpolated
// between the two nearest answers as PostgreSQL's percentile_cont does; 0
// without answers.
func (h AnswerHistogram) Percentile(q float64) float64 {
	n := 0
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n-1)
	lo, frac := int(rank), rank-float64(int(rank))
	days := slices.Sorted(maps.Keys(h))
	at := func(i int) float64 { // the i-th answer's days, 0-based, in order
		for _, d := range days {
			if i < h[d] {
				return float64(d)
			}
			i -= h[d]
		}
		return float64(days[len(days)-1])
	}
	v := at(lo)
	if frac > 0 {
		v += frac * (at(lo+1) - v)
	}
	return v
}

// TopReasons is the TopInvalidReasons most frequent of the refused fields
// counted, most first, ties by field.
func TopReasons(counts map[string]int) []ReasonCount {
	out := make([]ReasonCount, 0, len(counts))
	for field, n := range counts {
		if n > 0 {
			out = append(out, ReasonCount{Field: field, Count: n})
		}
	}
	slices.SortFunc(out, func(x, y ReasonCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Field, y.Field))
	})
	if len(out) > TopInvalidReasons {
		out = out[:TopInvalidReasons]
	}
	return out
}

// Tally adds up the figures of one district (or of the country) from the
// counts a ledger keeps, so that both ledgers finish them alike.
type Tally struct {
	Figures
	Refused map[string]int  // invalid requests by the field refused
	Answers AnswerHistogram // answers by working days; those the ledger has no days for are counted in Answered only
}

// NewTally is an empty tally of district ("" for the country).
func NewTally(district string) *Tally {
	return &Tally{
		Figures: Figures{District: district, ByType: map[string]int{}, ByService: map[string]int{}},
		Refused: map[string]int{}, Answers: AnswerHistogram{},
	}
}

// Done returns the figures the counts make: received, the top refusals
// and the answer-time percentiles.
func (t *Tally) Done() Figures {
	f := t.Figures
	f.Received = f.Registered + f.Invalid
	f.TopInvalid = TopReasons(t.Refused)
	f.AnswerDaysP50, f.AnswerDaysP90 = t.Answers.Percentile(0.5), t.Answers.Percentile(0.9)
	return f
}
