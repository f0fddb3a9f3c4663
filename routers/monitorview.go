package routers

import (
	"context"
	"errors"
)

// What the central monitors' dashboard shows (issue 10), built by Monitor
// from the FiguresLedger and the hub's live view of its districts.

// ErrUnknownDistrict is a district code the hub does not serve.
var ErrUnknownDistrict = errors.New("unknown district")

// DistrictHealth is what the hub process knows live of a district's link.
type DistrictHealth interface {
	// Breaker is "closed", "open" or "half-open"; "" when unknown.
	Breaker(district string) string
	// QueueDepth is the number of jobs waiting in the district's delivery
	// queue; false when unknown (no broker, or it did not answer).
	QueueDepth(ctx context.Context, district string) (int, bool)
}

// DistrictRow is one district's line of the country view.
type DistrictRow struct {
	Figures
	Name       string
	Breaker    string
	QueueDepth int  // -1 unknown
	Late       bool // overdue or late-forwarded appeals, or under 90% answered on time
}

// CountryView is the dashboard's first page.
type CountryView struct {
	Period    Period
	Today     string        // Baku date, YYYY-MM-DD
	Country   Figures       // all districts together
	Districts []DistrictRow // every district the hub serves, by code
}

// DistrictView is one district's page.
type DistrictView struct {
	Period   Period
	Today    string
	Row      DistrictRow
	Services []string        // codes of the services it offers, in order
	Overdue  []WatchedAppeal // oldest deadline first
	DueSoon  []WatchedAppeal
}
