// Package monitorwebtest is a small country for the dashboard's tests: a
// fake of monitorweb's Monitor and Appeals ports holding four districts
// (as the demo has), one of them late with overdue appeals, 90 days of
// appeals per day, lifecycles and the appeals' details. Its figures change
// on demand, for the tests of live updates.
package monitorwebtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// Today is the fake's Baku day: the tests never depend on the real date.
var Today = time.Date(2026, 3, 18, 0, 0, 0, 0, routers.Baku)

// Overdue numbers an overdue appeal of AZ-SAB, the late district; its
// details are known.
const Overdue = "AZ-SAB-2026-000017"

// Fake is a Monitor and Appeals over fixed data; safe for concurrent use.
type Fake struct {
	mu         sync.Mutex
	rows       []routers.DistrictRow
	services   map[string][]string
	watched    map[string][2][]routers.WatchedAppeal // overdue, due soon
	days       map[string][]routers.DayCount
	lifecycles []routers.Lifecycle
	appeals    map[string]routers.AppealView
	err        error
}

// New returns the fake country.
func New() *Fake {
	f := &Fake{
		services: map[string][]string{
			"AZ-BIL": {"appeal", "reception-booking", "family-composition-certificate", "housing-registration", "child-name-change"},
			"AZ-SAT": {"appeal", "reception-booking", "family-composition-certificate", "housing-registration"},
			"AZ-SAB": {"appeal", "housing-registration", "child-name-change", "minor-guardianship"},
			"AZ-IMI": {"appeal", "dwelling-replanning", "architectural-approval", "lease-contract-change"},
		},
		days:    map[string][]routers.DayCount{},
		appeals: map[string]routers.AppealView{},
	}
	f.rows = []routers.DistrictRow{
		row("AZ-BIL", "Biləsuvar rayon İcra Hakimiyyəti", 120, 6, 14, 1, 0, 40, 38, 4.5, 9, 1, 0, 2, 3, 0, 0, "closed", 0, 101_000, false),
		row("AZ-IMI", "İmişli rayon İcra Hakimiyyəti", 95, 3, 20, 2, 0, 30, 24, 7.5, 13, 0, 0, 1, 1, 2, 0, "half-open", 3, 0, true),
		row("AZ-SAB", "Sabirabad rayon İcra Hakimiyyəti", 140, 9, 31, 3, 2, 50, 46, 6, 12, 2, 1, 3, 5, 4, 1, "open", 12, 175_000, true),
		row("AZ-SAT", "Saatlı rayon İcra Hakimiyyəti", 80, 2, 9, 0, 0, 25, 25, 3, 6.5, 0, 0, 0, 0, 0, 0, "closed", -1, 101_500, false),
	}
	f.rows[0].TopInvalid = []routers.ReasonCount{{Field: "citizen.fin", Count: 4}, {Field: "reception.date", Count: 2}}
	f.rows[2].TopInvalid = []routers.ReasonCount{{Field: "form.rooms", Count: 9}}
	at := func(days int, clock string) time.Time {
		t, err := time.ParseInLocation("15:04", clock, routers.Baku)
		if err != nil {
			panic(err)
		}
		return Today.AddDate(0, 0, -days).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
	}
	f.watched = map[string][2][]routers.WatchedAppeal{
		"AZ-SAB": {
			{
				{Number: "AZ-SAB-2026-000009", District: "AZ-SAB", Service: "housing-registration", Type: "application", Status: routers.StatusDelivered, RegisteredAt: at(27, "09:12"), Deadline: "2026-03-05"},
				{Number: Overdue, District: "AZ-SAB", Service: "appeal", Type: "complaint", Status: routers.StatusInProgress, RegisteredAt: at(24, "16:40"), Deadline: "2026-03-10"},
			},
			{
				{Number: "AZ-SAB-2026-000031", District: "AZ-SAB", Service: "child-name-change", Type: "application", Status: routers.StatusDelivered, RegisteredAt: at(16, "11:05"), Deadline: "2026-03-19"},
			},
		},
		"AZ-IMI": {nil, {
			{Number: "AZ-IMI-2026-000044", District: "AZ-IMI", Service: "dwelling-replanning", Type: "application", Status: routers.StatusInProgress, RegisteredAt: at(15, "10:30"), Deadline: "2026-03-20"},
		}},
		"AZ-BIL": {nil, {
			{Number: "AZ-BIL-2026-000120", District: "AZ-BIL", Service: "appeal", Type: "proposal", Status: routers.StatusDelivered, RegisteredAt: at(17, "14:00"), Deadline: "2026-03-18"},
		}},
	}
	for i, r := range f.rows {
		f.days[r.District] = perDay(i)
	}
	f.days[""] = sumDays(f.days)
	f.lifecycles = []routers.Lifecycle{
		{Number: "AZ-BIL-2026-000101", District: "AZ-BIL", Service: "appeal", Type: "complaint", Status: routers.StatusClosed, Deadline: "2026-03-12",
			RegisteredAt: at(20, "09:00"), DeliveredAt: at(20, "09:01"), InProgressAt: at(19, "10:00"), AnsweredAt: at(12, "15:30"), ClosedAt: at(11, "09:00")},
		{Number: "AZ-SAB-2026-000009", District: "AZ-SAB", Service: "housing-registration", Type: "application", Status: routers.StatusDelivered, Deadline: "2026-03-05",
			RegisteredAt: at(27, "09:12"), DeliveredAt: at(27, "09:13")},
		{Number: Overdue, District: "AZ-SAB", Service: "appeal", Type: "complaint", Status: routers.StatusInProgress, Deadline: "2026-03-10",
			RegisteredAt: at(24, "16:40"), DeliveredAt: at(24, "16:41"), InProgressAt: at(23, "09:30")},
	}
	// Every listed appeal opens, as on a hub; one of them tells more.
	for _, lists := range f.watched {
		for _, list := range lists {
			for _, w := range list {
				f.appeals[w.Number] = brief(w, f.rows)
			}
		}
	}
	f.appeals[Overdue] = overdueAppeal(at)
	return f
}

func row(code, name string, received, invalid, open, dueSoon, overdue, answered, onTime int, p50, p90 float64,
	forwarded, forwardedLate, extended, repeat, pending, dead int, breaker string, queue, population int, late bool,
) routers.DistrictRow {
	return routers.DistrictRow{
		Figures: routers.Figures{
			District: code, Received: received, Registered: received - invalid, Invalid: invalid,
			ByType:    map[string]int{"complaint": (received - invalid) / 2, "application": (received - invalid) / 3, "proposal": (received - invalid) - (received-invalid)/2 - (received-invalid)/3},
			ByService: map[string]int{"appeal": (received - invalid) / 2},
			Open:      open, DueSoon: dueSoon, Overdue: overdue, Answered: answered, AnsweredOnTime: onTime,
			AnswerDaysP50: p50, AnswerDaysP90: p90, Forwarded: forwarded, ForwardedLate: forwardedLate, Extended: extended,
			Repeat: repeat, PendingDeliveries: pending, DeadLetters: dead, Population: population,
		},
		Name: name, Breaker: breaker, QueueDepth: queue, Late: late,
	}
}

// perDay is 90 days of a district's appeals, a pattern of its own per district.
func perDay(seed int) []routers.DayCount {
	out := make([]routers.DayCount, 90)
	for i := range out {
		day := Today.AddDate(0, 0, i-89)
		out[i] = routers.DayCount{Date: day.Format(time.DateOnly), ByType: map[string]int{
			"complaint":   (i*i + 3*seed + i/7) % 5,
			"application": (i*(i+seed) + 2*seed) % 4,
			"proposal":    (i + seed) % 3 / 2,
		}}
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			out[i].ByType["application"] = 0
		}
	}
	return out
}

func sumDays(byDistrict map[string][]routers.DayCount) []routers.DayCount {
	out := make([]routers.DayCount, 90)
	for i := range out {
		out[i] = routers.DayCount{Date: Today.AddDate(0, 0, i-89).Format(time.DateOnly), ByType: map[string]int{}}
		for _, days := range byDistrict {
			for t, n := range days[i].ByType {
				out[i].ByType[t] += n
			}
		}
	}
	return out
}

// brief is the details of a listed appeal: what its line says, and its steps.
func brief(w routers.WatchedAppeal, rows []routers.DistrictRow) routers.AppealView {
	svc, _ := catalogue.Default().Lookup(w.Service)
	name := w.District
	if i := slices.IndexFunc(rows, func(r routers.DistrictRow) bool { return r.District == w.District }); i >= 0 {
		name = rows[i].Name
	}
	v := routers.AppealView{
		Number: w.Number, District: routers.DistrictInfo{Code: w.District, Name: name}, Service: svc,
		Request: routers.Request{Kind: "request", District: w.District, Service: w.Service,
			Citizen: routers.Citizen{FIN: "2QW4E6T", Phone: "+994553456789"},
			Appeal:  routers.AppealForm{Type: w.Type, SocialStatus: "employed", Text: "Müraciətin mətni."}},
		Status: w.Status, SubmittedAt: w.RegisteredAt.Add(-time.Minute), RegisteredAt: w.RegisteredAt, Deadline: w.Deadline,
		Events: []routers.StatusEvent{{Sequence: 1, Status: routers.StatusRegistered, District: w.District, At: routers.FormatTime(w.RegisteredAt), Deadline: w.Deadline}},
	}
	if w.Status != routers.StatusRegistered {
		v.Events = append(v.Events, routers.StatusEvent{Sequence: 2, Status: routers.StatusDelivered, District: w.District, At: routers.FormatTime(w.RegisteredAt.Add(time.Minute))})
	}
	return v
}

func overdueAppeal(at func(int, string) time.Time) routers.AppealView {
	svc, _ := catalogue.Default().Lookup("appeal")
	return routers.AppealView{
		Number:   Overdue,
		District: routers.DistrictInfo{Code: "AZ-SAB", Name: "Sabirabad rayon İcra Hakimiyyəti"},
		Service:  svc,
		Request: routers.Request{
			Kind: "request", District: "AZ-SAB", Service: "appeal",
			Citizen: routers.Citizen{FIN: "5ZK8M2R", Phone: "+994704567890", Email: "nigar.suleymanova@example.az", Address: "Sabirabad şəhəri, Azadlıq küçəsi 12"},
			Appeal:  routers.AppealForm{Type: "complaint", SocialStatus: "pensioner", Subject: "Su təchizatı", Text: "Kəndimizdə üç həftədir içməli su yoxdur."},
			Attachments: []routers.Attachment{{Name: "akt.pdf", ContentType: "application/pdf", Size: 48213,
				SHA256: "9f2c1d6a4b3e8f7a0c5d2e1b6a9f8e7d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f"}},
		},
		Person:       &routers.Person{FIN: "5ZK8M2R", Surname: "Süleymanova", Name: "Nigar", Patronymic: "Rauf qızı"},
		Status:       routers.StatusInProgress,
		SubmittedAt:  at(24, "16:39"),
		RegisteredAt: at(24, "16:40"),
		Deadline:     "2026-03-10",
		DistrictRef:  "SAB-2026/311",
		Events: []routers.StatusEvent{
			{Sequence: 1, Status: routers.StatusRegistered, District: "AZ-SAB", At: routers.FormatTime(at(24, "16:40")), Deadline: "2026-03-10"},
			{Sequence: 2, Status: routers.StatusDelivered, District: "AZ-SAB", At: routers.FormatTime(at(24, "16:41"))},
			{Sequence: 3, Status: routers.StatusInProgress, District: "AZ-SAB", At: routers.FormatTime(at(23, "09:30")), Note: "Su idarəsinə sorğu göndərilib."},
		},
		Comments: []routers.CommentView{{ID: "c1", Text: "Hələ də su yoxdur.", SubmittedAt: at(10, "08:15"), Delivered: true}},
	}
}

// Bump adds n registered complaints today to a district and the country,
// as new appeals do; the dashboard's live parts show the change.
func (f *Fake) Bump(district string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		if f.rows[i].District == district {
			r := &f.rows[i]
			r.Received += n
			r.Registered += n
			r.Open += n
			r.ByType = clone(r.ByType)
			r.ByType["complaint"] += n
		}
	}
	for _, code := range []string{district, ""} {
		days := slices.Clone(f.days[code])
		last := &days[len(days)-1]
		last.ByType = clone(last.ByType)
		last.ByType["complaint"] += n
		f.days[code] = days
	}
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SetLifecycles replaces the appeals the CSV export lists.
func (f *Fake) SetLifecycles(list []routers.Lifecycle) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifecycles = list
}

// Fail makes every read fail with err (nil: succeed again).
func (f *Fake) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// ParsePeriod: today, 7d, 30d, year (365 days) end today; range is from
// to to, inclusive, at most 366 days.
func (f *Fake) ParsePeriod(name, from, to string) (routers.Period, error) {
	end := Today.AddDate(0, 0, 1)
	back := map[string]int{"today": 1, "7d": 7, "": 30, "30d": 30, "year": 365}
	if n, ok := back[name]; ok {
		return routers.Period{From: end.AddDate(0, 0, -n), To: end}, nil
	}
	if name != "range" {
		return routers.Period{}, fmt.Errorf("period: unknown %q", name)
	}
	a, errA := time.ParseInLocation(time.DateOnly, from, routers.Baku)
	b, errB := time.ParseInLocation(time.DateOnly, to, routers.Baku)
	switch {
	case errA != nil:
		return routers.Period{}, fmt.Errorf("from: %w", errA)
	case errB != nil:
		return routers.Period{}, fmt.Errorf("to: %w", errB)
	case b.Before(a):
		return routers.Period{}, errors.New("to: before from")
	case b.Sub(a) > 366*24*time.Hour:
		return routers.Period{}, errors.New("to: the span is longer than 366 days")
	}
	return routers.Period{From: a, To: b.AddDate(0, 0, 1)}, nil
}

func (f *Fake) country() routers.Figures {
	c := routers.Figures{ByType: map[string]int{}, ByService: map[string]int{}}
	for _, r := range f.rows {
		c.Received += r.Received
		c.Registered += r.Registered
		c.Invalid += r.Invalid
		c.Open += r.Open
		c.DueSoon += r.DueSoon
		c.Overdue += r.Overdue
		c.Answered += r.Answered
		c.AnsweredOnTime += r.AnsweredOnTime
		c.Forwarded += r.Forwarded
		c.ForwardedLate += r.ForwardedLate
		c.Extended += r.Extended
		c.Repeat += r.Repeat
		c.PendingDeliveries += r.PendingDeliveries
		c.DeadLetters += r.DeadLetters
		c.Population += r.Population
	}
	c.AnswerDaysP50, c.AnswerDaysP90 = 5, 11
	return c
}

// Country returns the four districts, by code.
func (f *Fake) Country(_ context.Context, p routers.Period) (routers.CountryView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return routers.CountryView{}, f.err
	}
	return routers.CountryView{Period: p, Today: Today.Format(time.DateOnly), Country: f.country(), Districts: slices.Clone(f.rows)}, nil
}

func (f *Fake) find(code string) (routers.DistrictRow, error) {
	i := slices.IndexFunc(f.rows, func(r routers.DistrictRow) bool { return r.District == code })
	if i < 0 {
		return routers.DistrictRow{}, fmt.Errorf("district %q: %w", code, routers.ErrUnknownDistrict)
	}
	return f.rows[i], nil
}

// District returns one district's page, or routers.ErrUnknownDistrict.
func (f *Fake) District(_ context.Context, code string, p routers.Period) (routers.DistrictView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return routers.DistrictView{}, f.err
	}
	r, err := f.find(code)
	if err != nil {
		return routers.DistrictView{}, err
	}
	w := f.watched[code]
	return routers.DistrictView{Period: p, Today: Today.Format(time.DateOnly), Row: r, Services: f.services[code], Overdue: w[0], DueSoon: w[1]}, nil
}

// PerDay returns the last days of the 90 the fake holds.
func (f *Fake) PerDay(_ context.Context, district string, days int) ([]routers.DayCount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	list, ok := f.days[district]
	if !ok {
		return nil, fmt.Errorf("district %q: %w", district, routers.ErrUnknownDistrict)
	}
	return slices.Clone(list[max(len(list)-days, 0):]), nil
}

// Lifecycles calls fn with the district's (all: "") appeals registered in p.
func (f *Fake) Lifecycles(_ context.Context, district string, p routers.Period, fn func(routers.Lifecycle) error) error {
	f.mu.Lock()
	list, err := slices.Clone(f.lifecycles), f.err
	if district != "" && err == nil {
		_, err = f.find(district)
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for _, lc := range list {
		if (district == "" || lc.District == district) && !lc.RegisteredAt.Before(p.From) && lc.RegisteredAt.Before(p.To) {
			if err := fn(lc); err != nil {
				return err
			}
		}
	}
	return nil
}

// Details returns an appeal to the monitors; to anyone else, nothing.
func (f *Fake) Details(_ context.Context, v routers.Viewer, number string) (routers.AppealView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return routers.AppealView{}, f.err
	}
	a, ok := f.appeals[number]
	if !ok || !v.Monitor {
		return routers.AppealView{}, fmt.Errorf("appeal %s: %w", number, routers.ErrNotFound)
	}
	return a, nil
}

// Catalogue is the hub's embedded service catalogue.
func (f *Fake) Catalogue() *catalogue.Catalogue { return catalogue.Default() }
