package routers

import (
	"context"
	"fmt"
	"time"

	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// The central monitors' figures as the dashboard and the gauges show them
// (issue 10): the ledger's figures of a period (figures.go), each
// district's name, population and live health beside them, and the
// period, today and the due-soon line from the hub's one calendar and
// clock.

// Bounds of the monitors' questions.
const (
	// MaxPeriodDays is the longest period asked for: two years, enough to
	// set a year beside the one before.
	MaxPeriodDays = 731
	// MaxPerDayDays is the most days of the per-day chart.
	MaxPerDayDays = 366
	// WatchedLimit is how many overdue and due-soon appeals a district's
	// view lists, each.
	WatchedLimit = 100
	// LateOnTimeShare: a district answering less of its appeals on time
	// is late.
	LateOnTimeShare = 0.9
)

// Periods by name, for ParsePeriod.
const (
	PeriodToday = "today"
	Period7d    = "7d"
	Period30d   = "30d"
	PeriodYear  = "year"
	PeriodRange = "range"
)

// lastDays are the named periods of the last n days, today included.
var lastDays = map[string]int{PeriodToday: 1, Period7d: 7, Period30d: 30, PeriodYear: 365}

// PeriodError is a monitor's question the hub refuses: the parameter
// named and why, in both languages, as the API answers a bad parameter.
type PeriodError struct{ FieldError }

func (e *PeriodError) Error() string { return e.Field + ": " + e.Message }

// MonitorConfig is what a Monitor is built from.
type MonitorConfig struct {
	Ledger    FiguresLedger
	Directory Directory          // the districts the hub serves
	Calendar  *calendar.Calendar // the calendar the Validator counts deadlines on
	Now       func() time.Time   // the hub's one clock; time.Now if nil
	// Population is the residents of each district (the operator's
	// population_file); a district without is shown without a rate.
	Population map[string]int
	// Health is the live state of the districts' links; nil: unknown.
	Health DistrictHealth
	// Catalogue lists what a district offering every service offers; nil:
	// catalogue.Default(), the one the Validator is given.
	Catalogue *catalogue.Catalogue
}

// Monitor answers the central monitors' questions about the figures.
type Monitor struct {
	cfg MonitorConfig
}

// NewMonitor returns a Monitor of cfg.
func NewMonitor(cfg MonitorConfig) *Monitor {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Catalogue == nil {
		cfg.Catalogue = catalogue.Default()
	}
	return &Monitor{cfg: cfg}
}

// dates are today and the last due-soon deadline (WatchDates): past the
// calendar's known years counted on weekdays, which the oversight sweep
// logs.
func (m *Monitor) dates() (today time.Time, todayText, dueSoonBy string) {
	now := m.cfg.Now()
	todayText, dueSoonBy, _ = WatchDates(m.cfg.Calendar, now)
	return calendar.Day(now), todayText, dueSoonBy
}

// ParsePeriod reads a period the monitors ask for: "today", "7d", "30d"
// and "year" end today (Baku) and reach back that many days, today
// included (a year: 365 days); "range" runs from from to to, both
// YYYY-MM-DD and inclusive, at most MaxPeriodDays; "" is "30d". A bad
// parameter is a *PeriodError naming it (period, from or to).
func (m *Monitor) ParsePeriod(name, from, to string) (Period, error) {
	if name == "" {
		name = Period30d
	}
	today, _, _ := m.dates()
	if n, ok := lastDays[name]; ok {
		if from != "" || to != "" {
			field := "from"
			if from == "" {
				field = "to"
			}
			return Period{}, periodError(field, "Yalnız period=range ilə verilir.", "Given with period=range only.")
		}
		return Period{From: today.AddDate(0, 0, 1-n), To: today.AddDate(0, 0, 1)}, nil
	}
	if name != PeriodRange {
		return Period{}, periodError("period", "Dövr today, 7d, 30d, year və ya range olmalıdır.", "The period must be today, 7d, 30d, year or range.")
	}
	first, err := parseDay("from", from)
	if err != nil {
		return Period{}, err
	}
	last, err := parseDay("to", to)
	if err != nil {
		return Period{}, err
	}
	switch {
	case last.Before(first):
		return Period{}, periodError("to", "Son tarix başlanğıcdan əvvəldir.", "The end is before the start.")
	case last.Sub(first) >= MaxPeriodDays*24*time.Hour:
		return Period{}, periodError("to", fmt.Sprintf("Dövr ən çoxu %d gündür.", MaxPeriodDays), fmt.Sprintf("A period is at most %d days.", MaxPeriodDays))
	}
	return Period{From: first, To: last.AddDate(0, 0, 1)}, nil
}

func periodError(field, az, en string) error {
	return &PeriodError{FieldError{Field: field, Message: Bilingual(az, en)}}
}

// parseDay reads the Baku day YYYY-MM-DD of parameter field.
func parseDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, periodError(field, "Sahə mütləqdir.", "The field is required.")
	}
	day, err := time.ParseInLocation(time.DateOnly, s, Baku)
	if err != nil || len(s) != len(time.DateOnly) {
		return time.Time{}, periodError(field, "Tarix YYYY-MM-DD şəklində olmalıdır.", "The date must be YYYY-MM-DD.")
	}
	return day, nil
}

// checkPeriod refuses a period that ParsePeriod would not give.
func checkPeriod(p Period) error {
	if !p.To.After(p.From) || p.To.Sub(p.From) > MaxPeriodDays*24*time.Hour {
		return periodError("period", "Dövr yanlışdır.", "The period is not valid.")
	}
	return nil
}

// Country returns the country view over p: the country's figures and a
// row of every district the hub serves, by code.
func (m *Monitor) Country(ctx context.Context, p Period) (CountryView, error) {
	if err := checkPeriod(p); err != nil {
		return CountryView{}, err
	}
	_, today, dueSoonBy := m.dates()
	figures, err := m.cfg.Ledger.Figures(ctx, p, today, dueSoonBy)
	if err != nil {
		return CountryView{}, fmt.Errorf("country figures: %w", err)
	}
	view := CountryView{Period: p, Today: today, Country: figures[""]}
	view.Country.District = ""
	view.Country.Population = m.countryPopulation()
	for _, code := range m.cfg.Directory.Codes() {
		f, ok := figures[code]
		if !ok {
			f = NewTally(code).Done()
		}
		view.Districts = append(view.Districts, m.row(ctx, f))
	}
	return view, nil
}

// countryPopulation is the residents of every district the hub serves;
// unknown (0) unless each has its number, since the country's rate would
// otherwise count appeals of residents it does not.
func (m *Monitor) countryPopulation() int {
	codes := m.cfg.Directory.Codes()
	total := 0
	for _, code := range codes {
		n := m.cfg.Population[code]
		if n <= 0 {
			return 0
		}
		total += n
	}
	return total
}

// row is a district's line: its figures, name, population and health.
func (m *Monitor) row(ctx context.Context, f Figures) DistrictRow {
	f.Population = m.cfg.Population[f.District]
	r := DistrictRow{Figures: f, Name: m.cfg.Directory.Districts[f.District].Name, QueueDepth: -1}
	if m.cfg.Health != nil {
		r.Breaker = m.cfg.Health.Breaker(f.District)
		if depth, ok := m.cfg.Health.QueueDepth(ctx, f.District); ok {
			r.QueueDepth = depth
		}
	}
	r.Late = f.Overdue > 0 || f.ForwardedLate > 0 || f.Answered > 0 && f.OnTimeShare() < LateOnTimeShare
	return r
}

// district returns the directory's entry of code, or ErrUnknownDistrict.
func (m *Monitor) district(code string) (DistrictInfo, error) {
	d, ok := m.cfg.Directory.Districts[code]
	if !ok {
		return DistrictInfo{}, fmt.Errorf("district %q: %w", code, ErrUnknownDistrict)
	}
	return d, nil
}

// District returns one district's view over p, with its overdue and
// due-soon appeals (WatchedLimit of each, oldest deadline first), or
// ErrUnknownDistrict.
func (m *Monitor) District(ctx context.Context, code string, p Period) (DistrictView, error) {
	d, err := m.district(code)
	if err != nil {
		return DistrictView{}, err
	}
	if err := checkPeriod(p); err != nil {
		return DistrictView{}, err
	}
	_, today, dueSoonBy := m.dates()
	f, err := m.cfg.Ledger.DistrictFigures(ctx, code, p, today, dueSoonBy)
	if err != nil {
		return DistrictView{}, fmt.Errorf("figures of %s: %w", code, err)
	}
	view := DistrictView{Period: p, Today: today, Row: m.row(ctx, f), Services: m.services(d)}
	if view.Overdue, err = m.cfg.Ledger.Watched(ctx, code, true, today, dueSoonBy, WatchedLimit); err != nil {
		return DistrictView{}, fmt.Errorf("overdue appeals of %s: %w", code, err)
	}
	if view.DueSoon, err = m.cfg.Ledger.Watched(ctx, code, false, today, dueSoonBy, WatchedLimit); err != nil {
		return DistrictView{}, fmt.Errorf("due-soon appeals of %s: %w", code, err)
	}
	return view, nil
}

// services lists what d offers, in the catalogue's order.
func (m *Monitor) services(d DistrictInfo) []string {
	var out []string
	for _, s := range m.cfg.Catalogue.All() {
		if !s.Withdrawn && d.Offers(s.Code) {
			out = append(out, s.Code)
		}
	}
	return out
}

// PerDay returns the appeals registered on each of the last days Baku
// days, today included, by type, oldest first, every day present: for one
// district or all (""). days runs from 1 to MaxPerDayDays.
func (m *Monitor) PerDay(ctx context.Context, district string, days int) ([]DayCount, error) {
	if err := m.known(district); err != nil {
		return nil, err
	}
	if days < 1 || days > MaxPerDayDays {
		return nil, periodError("days", fmt.Sprintf("Gün sayı 1 ilə %d arasında olmalıdır.", MaxPerDayDays),
			fmt.Sprintf("The number of days must be from 1 to %d.", MaxPerDayDays))
	}
	today, _, _ := m.dates()
	list, err := m.cfg.Ledger.AppealsPerDay(ctx, district, Period{From: today.AddDate(0, 0, 1-days), To: today.AddDate(0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("appeals per day: %w", err)
	}
	return list, nil
}

// known refuses a district the hub does not serve; "" is every district.
func (m *Monitor) known(district string) error {
	if district == "" {
		return nil
	}
	_, err := m.district(district)
	return err
}

// Lifecycles calls fn with each appeal filed with the district (all: "")
// registered in p, in registration order, until fn returns an error,
// which it returns.
func (m *Monitor) Lifecycles(ctx context.Context, district string, p Period, fn func(Lifecycle) error) error {
	if err := m.known(district); err != nil {
		return err
	}
	if err := checkPeriod(p); err != nil {
		return err
	}
	return m.cfg.Ledger.Lifecycles(ctx, district, p, fn)
}
