package routers

import (
	"context"
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

// FiguresLedger is what the monitors' figures need of the ledger. today
// and dueSoonBy are Baku dates (YYYY-MM-DD): an open appeal is overdue
// when its deadline is before today, due soon when not overdue and its
// deadline is on or before dueSoonBy.
type FiguresLedger interface {
	// Figures returns each district's figures over p (the country's are
	// their sum, but for the answer-time percentiles: see CountryFigures).
	Figures(ctx context.Context, p Period, today, dueSoonBy string) (map[string]Figures, error)
	// CountryFigures returns the figures of all districts together over p.
	CountryFigures(ctx context.Context, p Period, today, dueSoonBy string) (Figures, error)
	// AppealsPerDay returns the registered appeals of each day of p by
	// type, for one district or all ("").
	AppealsPerDay(ctx context.Context, district string, p Period) ([]DayCount, error)
	// Watched returns up to limit open appeals of the district that are
	// overdue (overdue true) or due soon, oldest deadline first.
	Watched(ctx context.Context, district string, overdue bool, today, dueSoonBy string, limit int) ([]WatchedAppeal, error)
	// Lifecycles calls fn with each appeal of the district (all: "")
	// registered in p, in registration order, until fn returns an error.
	Lifecycles(ctx context.Context, district string, p Period, fn func(Lifecycle) error) error
}
