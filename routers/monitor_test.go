package routers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// monitorNow is the monitors' clock: Thursday 26 March 2026, amid the
// Novruz holidays (20–30 March not worked). The next working days are 31
// March, 1, 2 and 3 April, so an open appeal due by 2 April is due soon.
var monitorNow = time.Date(2026, 3, 26, 10, 0, 0, 0, routers.Baku)

// fixedClock is a clock tests move by hand.
type fixedClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *fixedClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// fakeHealth is the districts' live state as a test sets it.
type fakeHealth struct {
	breakers map[string]string
	depths   map[string]int
}

func (f fakeHealth) Breaker(district string) string { return f.breakers[district] }

func (f fakeHealth) QueueDepth(_ context.Context, district string) (int, bool) {
	n, ok := f.depths[district]
	return n, ok
}

// monitorFixture is a Monitor over a memory ledger of AZ-BIL (every
// service), AZ-SAT (two) and AZ-NRM (one), on the monitors' clock.
type monitorFixture struct {
	t       *testing.T
	ledger  *memory.Ledger
	clock   *fixedClock
	monitor *routers.Monitor
	seq     int
}

func newMonitorFixture(t *testing.T) *monitorFixture {
	f := &monitorFixture{t: t, clock: &fixedClock{at: monitorNow}}
	f.ledger = memory.NewLedger(f.clock.Now)
	f.monitor = routers.NewMonitor(routers.MonitorConfig{
		Ledger: f.ledger,
		Directory: routers.Directory{Districts: map[string]routers.DistrictInfo{
			"AZ-BIL": {Code: "AZ-BIL", Name: "Biləsuvar", AllServices: true},
			"AZ-SAT": {Code: "AZ-SAT", Name: "Saatlı", Services: map[string]bool{"appeal": true, "housing-registration": true}},
			"AZ-NRM": {Code: "AZ-NRM", Name: "Nərimanov", Services: map[string]bool{"appeal": true}},
		}},
		Calendar:   testCalendar(),
		Now:        f.clock.Now,
		Population: map[string]int{"AZ-BIL": 104_300, "AZ-SAT": 100_900},
		Health:     fakeHealth{breakers: map[string]string{"AZ-BIL": "open", "AZ-SAT": "closed"}, depths: map[string]int{"AZ-BIL": 42}},
	})
	return f
}

// appeal registers an appeal of district at at, due on deadline, as the
// hub writes it, and returns its number.
func (f *monitorFixture) appeal(district, kind string, at time.Time, deadline string) string {
	f.t.Helper()
	f.seq++
	draft := routers.Appeal{
		RequestID: fmt.Sprintf("req-%d", f.seq), District: district, Service: "appeal", FIN: fmt.Sprintf("5ZJ7K%02d", f.seq), Type: kind,
		Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: at, Deadline: deadline,
		Request: []byte(`{}`), Delivery: routers.Delivery{State: routers.DeliveryDelivered},
	}
	a, err := f.ledger.Register(context.Background(), draft, nil,
		func(seq int) string { return routers.FormatAppealNumber(district, at.In(routers.Baku).Year(), seq) },
		func(routers.Appeal) routers.Effects { return routers.Effects{} })
	require.NoError(f.t, err)
	return a.Number
}

// answer records the answer of number, seen at at.
func (f *monitorFixture) answer(number string, at time.Time, days int, onTime bool) {
	f.t.Helper()
	require.NoError(f.t, f.ledger.UpdateAppeal(context.Background(), number, func(a *routers.Appeal) (routers.Effects, error) {
		a.Status, a.Sequence = routers.StatusAnswered, a.Sequence+1
		a.AnsweredAt, a.AnswerDays, a.OnTime = at, days, onTime
		return routers.Effects{}, nil
	}))
}

func (f *monitorFixture) period(name, from, to string) routers.Period {
	f.t.Helper()
	p, err := f.monitor.ParsePeriod(name, from, to)
	require.NoError(f.t, err)
	return p
}

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	m := newMonitorFixture(t).monitor
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, routers.Baku)
		require.NoError(t, err)
		return d
	}
	for _, tc := range []struct {
		name, from, to string
		want           routers.Period
	}{
		{"today", "", "", routers.Period{From: day("2026-03-26"), To: day("2026-03-27")}},
		{"7d", "", "", routers.Period{From: day("2026-03-20"), To: day("2026-03-27")}},
		{"30d", "", "", routers.Period{From: day("2026-02-25"), To: day("2026-03-27")}},
		{"", "", "", routers.Period{From: day("2026-02-25"), To: day("2026-03-27")}},
		{"year", "", "", routers.Period{From: day("2025-03-27"), To: day("2026-03-27")}},
		// Across Novruz: the days not worked are days all the same.
		{"range", "2026-03-18", "2026-04-01", routers.Period{From: day("2026-03-18"), To: day("2026-04-02")}},
		{"range", "2026-03-26", "2026-03-26", routers.Period{From: day("2026-03-26"), To: day("2026-03-27")}},
		{"range", "2024-03-26", "2026-03-26", routers.Period{From: day("2024-03-26"), To: day("2026-03-27")}}, // 731 days
	} {
		got, err := m.ParsePeriod(tc.name, tc.from, tc.to)
		require.NoError(t, err, "%s %s %s", tc.name, tc.from, tc.to)
		require.Equal(t, tc.want, got, "%s %s %s", tc.name, tc.from, tc.to)
		require.Equal(t, routers.Baku, got.From.Location())
	}
	for _, tc := range []struct{ name, from, to, field string }{
		{"week", "", "", "period"},
		{"7d", "2026-03-01", "", "from"},
		{"30d", "", "2026-03-01", "to"},
		{"range", "", "2026-03-01", "from"},
		{"range", "2026-03-01", "", "to"},
		{"range", "2026-3-1", "2026-03-02", "from"},
		{"range", "2026-03-01", "2026-02-30", "to"},
		{"range", "2026-03-01", "2026-03-01T00:00:00Z", "to"},
		{"range", "2026-03-02", "2026-03-01", "to"},
		{"range", "2024-03-25", "2026-03-26", "to"}, // 732 days
	} {
		_, err := m.ParsePeriod(tc.name, tc.from, tc.to)
		var pe *routers.PeriodError
		require.ErrorAs(t, err, &pe, "%s %s %s", tc.name, tc.from, tc.to)
		require.Equal(t, tc.field, pe.Field, "%s %s %s: %v", tc.name, tc.from, tc.to, err)
		require.Contains(t, pe.Message, " / ", "both languages")
	}
}

func TestMonitorCountry(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	// Over the period across Novruz, 18 March to 1 April.
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 18, 11, 0, 0, 0, routers.Baku), "2026-03-25") // overdue
	f.appeal("AZ-BIL", "proposal", time.Date(2026, 3, 19, 11, 0, 0, 0, routers.Baku), "2026-04-02")  // due soon: 3 working days left
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 26, 9, 0, 0, 0, routers.Baku), "2026-04-03")  // not yet: 4
	// Registered before the period: one answered in it, one due soon now.
	s1 := f.appeal("AZ-SAT", "application", time.Date(2026, 3, 17, 11, 0, 0, 0, routers.Baku), "2026-04-15")
	f.answer(s1, time.Date(2026, 3, 19, 15, 0, 0, 0, routers.Baku), 2, true)
	f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 10, 11, 0, 0, 0, routers.Baku), "2026-03-31")

	view, err := f.monitor.Country(t.Context(), f.period("range", "2026-03-18", "2026-04-01"))
	require.NoError(t, err)
	require.Equal(t, "2026-03-26", view.Today)
	require.Equal(t, 3, view.Country.Registered)
	require.Equal(t, 1, view.Country.Answered)
	require.Zero(t, view.Country.Population, "AZ-NRM's is not known, so neither is the country's")
	codes := make([]string, len(view.Districts))
	for i, r := range view.Districts {
		codes[i] = r.District
	}
	require.Equal(t, []string{"AZ-BIL", "AZ-NRM", "AZ-SAT"}, codes, "every district served, by code")

	bil, nrm, sat := view.Districts[0], view.Districts[1], view.Districts[2]
	require.Equal(t, "Biləsuvar", bil.Name)
	require.Equal(t, 3, bil.Registered)
	require.Equal(t, map[string]int{"complaint": 2, "proposal": 1}, bil.ByType)
	require.Equal(t, 1, bil.Overdue)
	require.Equal(t, 1, bil.DueSoon, "due on 2 April, 3 working days after 26 March across Novruz; 3 April is not")
	require.Equal(t, 104_300, bil.Population)
	require.InDelta(t, 3*1000/104300.0, bil.PerThousand(), 1e-9)
	require.Equal(t, "open", bil.Breaker)
	require.Equal(t, 42, bil.QueueDepth)
	require.True(t, bil.Late, "overdue")

	require.Equal(t, "AZ-NRM", nrm.District)
	require.Zero(t, nrm.Registered)
	require.NotNil(t, nrm.ByType)
	require.Equal(t, "", nrm.Breaker)
	require.Equal(t, -1, nrm.QueueDepth, "unknown")
	require.False(t, nrm.Late)

	require.Zero(t, sat.Registered)
	require.Equal(t, 1, sat.DueSoon, "registered before the period, due soon now")
	require.Equal(t, 1, sat.AnsweredOnTime)
	require.False(t, sat.Late)

	_, err = f.monitor.Country(t.Context(), routers.Period{From: monitorNow, To: monitorNow})
	var pe *routers.PeriodError
	require.ErrorAs(t, err, &pe)
}

func TestMonitorLate(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, routers.Baku)
	for i := range 10 {
		n := f.appeal("AZ-SAT", "complaint", at, "2026-03-23")
		f.answer(n, at.Add(48*time.Hour), 2, i != 0) // 9 of 10 on time: not late
	}
	n := f.appeal("AZ-NRM", "complaint", at, "2026-03-23")
	f.answer(n, at.Add(48*time.Hour), 2, true)
	n = f.appeal("AZ-NRM", "complaint", at, "2026-03-23")
	require.NoError(t, f.ledger.UpdateAppeal(t.Context(), n, func(a *routers.Appeal) (routers.Effects, error) {
		a.Status, a.ForwardedTo, a.ForwardedBy, a.ForwardedAt, a.ForwardedLate = routers.StatusForwarded, "Nazirlik", "AZ-NRM", at.Add(96*time.Hour), true
		return routers.Effects{}, nil
	}))
	view, err := f.monitor.Country(t.Context(), f.period("30d", "", ""))
	require.NoError(t, err)
	require.False(t, view.Districts[2].Late, "90%% on time is not late: %+v", view.Districts[2].Figures)
	require.True(t, view.Districts[1].Late, "forwarded late")

	n = f.appeal("AZ-SAT", "complaint", at, "2026-03-23")
	f.answer(n, at.Add(48*time.Hour), 2, false)
	view, err = f.monitor.Country(t.Context(), f.period("30d", "", ""))
	require.NoError(t, err)
	require.True(t, view.Districts[2].Late, "9 of 11 on time")
}

func TestMonitorDistrict(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	overdue := []string{
		f.appeal("AZ-SAT", "complaint", time.Date(2026, 2, 20, 11, 0, 0, 0, routers.Baku), "2026-03-13"),
		f.appeal("AZ-SAT", "complaint", time.Date(2026, 2, 10, 11, 0, 0, 0, routers.Baku), "2026-03-03"),
	}
	dueSoon := f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 12, 11, 0, 0, 0, routers.Baku), "2026-04-02")
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 2, 10, 11, 0, 0, 0, routers.Baku), "2026-03-03")

	view, err := f.monitor.District(t.Context(), "AZ-SAT", f.period("year", "", ""))
	require.NoError(t, err)
	require.Equal(t, "2026-03-26", view.Today)
	require.Equal(t, "Saatlı", view.Row.Name)
	require.Equal(t, "closed", view.Row.Breaker)
	require.Equal(t, 3, view.Row.Registered)
	require.Equal(t, 3, view.Row.Open)
	require.Equal(t, []string{"appeal", "housing-registration"}, view.Services, "in the catalogue's order")
	require.Equal(t, []string{overdue[1], overdue[0]}, watchedNumbers(view.Overdue), "oldest deadline first")
	require.Equal(t, []string{dueSoon}, watchedNumbers(view.DueSoon))

	all, err := f.monitor.District(t.Context(), "AZ-BIL", f.period("7d", "", ""))
	require.NoError(t, err)
	var offered []string
	for _, s := range catalogue.Default().All() {
		if !s.Withdrawn {
			offered = append(offered, s.Code)
		}
	}
	require.Equal(t, offered, all.Services, "every service but the withdrawn")
	require.Len(t, all.Overdue, 1, "open whenever registered")

	_, err = f.monitor.District(t.Context(), "AZ-XXX", f.period("7d", "", ""))
	require.ErrorIs(t, err, routers.ErrUnknownDistrict)
}

func watchedNumbers(list []routers.WatchedAppeal) []string {
	out := make([]string, len(list))
	for i, w := range list {
		out[i] = w.Number
	}
	return out
}

func TestMonitorPerDay(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 21, 11, 0, 0, 0, routers.Baku), "2026-04-10") // a Saturday of Novruz: the portal takes appeals any day
	f.appeal("AZ-SAT", "proposal", time.Date(2026, 3, 26, 8, 0, 0, 0, routers.Baku), "2026-04-16")
	f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 15, 8, 0, 0, 0, routers.Baku), "2026-04-16") // before the days asked

	days, err := f.monitor.PerDay(t.Context(), "", 7)
	require.NoError(t, err)
	require.Len(t, days, 7)
	require.Equal(t, "2026-03-20", days[0].Date)
	require.Equal(t, "2026-03-26", days[6].Date, "today last")
	require.Equal(t, map[string]int{"complaint": 1}, days[1].ByType)
	require.Equal(t, map[string]int{"proposal": 1}, days[6].ByType)
	require.Equal(t, map[string]int{}, days[3].ByType, "a day without appeals is there")

	sat, err := f.monitor.PerDay(t.Context(), "AZ-SAT", 1)
	require.NoError(t, err)
	require.Equal(t, []routers.DayCount{{Date: "2026-03-26", ByType: map[string]int{"proposal": 1}}}, sat)

	for _, n := range []int{0, -1, routers.MaxPerDayDays + 1} {
		_, err := f.monitor.PerDay(t.Context(), "", n)
		var pe *routers.PeriodError
		require.ErrorAs(t, err, &pe, "%d days", n)
		require.Equal(t, "days", pe.Field)
	}
	_, err = f.monitor.PerDay(t.Context(), "AZ-XXX", 7)
	require.ErrorIs(t, err, routers.ErrUnknownDistrict)
}

func TestMonitorLifecycles(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	first := f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 20, 11, 0, 0, 0, routers.Baku), "2026-04-15")
	second := f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 23, 11, 0, 0, 0, routers.Baku), "2026-04-20")
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 23, 11, 0, 0, 0, routers.Baku), "2026-04-20")
	answered := time.Date(2026, 3, 25, 10, 0, 0, 0, routers.Baku)
	f.answer(first, answered, 0, true)

	var got []routers.Lifecycle
	require.NoError(t, f.monitor.Lifecycles(t.Context(), "AZ-SAT", f.period("7d", "", ""), func(c routers.Lifecycle) error {
		got = append(got, c)
		return nil
	}))
	require.Len(t, got, 2)
	require.Equal(t, []string{first, second}, []string{got[0].Number, got[1].Number})
	require.True(t, answered.Equal(got[0].AnsweredAt), "%v", got[0].AnsweredAt)

	stop := errors.New("client gone")
	require.ErrorIs(t, f.monitor.Lifecycles(t.Context(), "", f.period("7d", "", ""), func(routers.Lifecycle) error { return stop }), stop)
	require.ErrorIs(t, f.monitor.Lifecycles(t.Context(), "AZ-XXX", f.period("7d", "", ""), func(routers.Lifecycle) error { return nil }),
		routers.ErrUnknownDistrict)
}

func TestFiguresCollector(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t)
	answered := f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 2, 11, 0, 0, 0, routers.Baku), "2026-03-23")
	f.answer(answered, time.Date(2026, 3, 20, 11, 0, 0, 0, routers.Baku), 13, true)
	late := f.appeal("AZ-SAT", "complaint", time.Date(2026, 3, 2, 11, 0, 0, 0, routers.Baku), "2026-03-23")
	f.answer(late, time.Date(2026, 3, 25, 11, 0, 0, 0, routers.Baku), 16, false)
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 26, 9, 0, 0, 0, routers.Baku), "2026-04-02")  // today, due soon
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 25, 23, 0, 0, 0, routers.Baku), "2026-04-02") // yesterday, due soon

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(routers.NewFiguresCollector(f.monitor, 10*time.Second))
	want := `
# HELP korpu_appeals_answered_on_time_ratio Share of the answers of the last 30 days (today included) given by the deadline; absent for a district that answered none.
# TYPE korpu_appeals_answered_on_time_ratio gauge
korpu_appeals_answered_on_time_ratio{district="AZ-SAT"} 0.5
# HELP korpu_appeals_due_soon Open appeals with at most 3 working days left before their deadline, not yet overdue.
# TYPE korpu_appeals_due_soon gauge
korpu_appeals_due_soon{district="AZ-BIL"} 2
korpu_appeals_due_soon{district="AZ-NRM"} 0
korpu_appeals_due_soon{district="AZ-SAT"} 0
# HELP korpu_appeals_registered_today Appeals registered today (Baku) by the district they were filed with.
# TYPE korpu_appeals_registered_today gauge
korpu_appeals_registered_today{district="AZ-BIL"} 1
korpu_appeals_registered_today{district="AZ-NRM"} 0
korpu_appeals_registered_today{district="AZ-SAT"} 0
# HELP korpu_figures_up 1 when the ledger answered the figures' queries at their last refresh.
# TYPE korpu_figures_up gauge
korpu_figures_up 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))

	// Within ten seconds a scrape gets the last answer; after, a new one.
	f.appeal("AZ-BIL", "complaint", time.Date(2026, 3, 26, 9, 30, 0, 0, routers.Baku), "2026-04-02")
	f.clock.add(9 * time.Second)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "korpu_appeals_registered_today"))
	f.clock.add(time.Second)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(strings.Replace(want,
		`korpu_appeals_registered_today{district="AZ-BIL"} 1`, `korpu_appeals_registered_today{district="AZ-BIL"} 2`, 1)),
		"korpu_appeals_registered_today"))
}

// countingQueues is a QueueInspector that counts its calls.
type countingQueues struct {
	mu    sync.Mutex
	calls map[string]int
}

func (q *countingQueues) Depth(_ context.Context, queue string) (int, int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls[queue]++
	if strings.HasSuffix(queue, "AZ-SAT") {
		return 0, 0, errors.New("broker away")
	}
	return 7, 1, nil
}

func TestHubHealth(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{breakerFailures: 2, breakerCooldown: time.Hour})
	queues := &countingQueues{calls: map[string]int{}}
	health := h.hub.Health(queues)
	require.Equal(t, "closed", health.Breaker("AZ-BIL"))
	require.Equal(t, "", health.Breaker("AZ-XXX"))

	depth, ok := health.QueueDepth(t.Context(), "AZ-BIL")
	require.True(t, ok)
	require.Equal(t, 7, depth)
	_, _ = health.QueueDepth(t.Context(), "AZ-BIL")
	require.Equal(t, 1, queues.calls["district.AZ-BIL"], "asked once within 5 s")
	h.clock.moveTo(h.clock.Now().Add(6 * time.Second))
	_, _ = health.QueueDepth(t.Context(), "AZ-BIL")
	require.Equal(t, 2, queues.calls["district.AZ-BIL"])
	_, ok = health.QueueDepth(t.Context(), "AZ-SAT")
	require.False(t, ok, "the broker did not answer")
	_, ok = health.QueueDepth(t.Context(), "AZ-XXX")
	require.False(t, ok)
	_, ok = h.hub.Health(nil).QueueDepth(t.Context(), "AZ-BIL")
	require.False(t, ok, "no broker")

	down := &routers.TransientError{Err: errors.New("503")}
	h.districts["AZ-BIL"].plan(down, down)
	body, _ := h.body("request-appeal.json", nil)
	h.publish(body)
	waitUntil(t, "the breaker opens", func() bool { return health.Breaker("AZ-BIL") == "open" })
}
