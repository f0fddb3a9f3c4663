package routers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/korpu-az/korpu/routers/calendar"
)

// The series the operators' alerts (deploy/prometheus) need beside the
// flow's counters: when each district last reported, the dead letters
// waiting, and whether today is a working day.

// newLastReport registers korpu_district_last_report_timestamp_seconds. A
// district has no series until it reports after the hub started: a zero
// would read as silence since 1970.
func newLastReport(reg prometheus.Registerer) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "korpu", Name: "district_last_report_timestamp_seconds",
		Help: "When the district last reported a change of an appeal (callback, poll or reconciliation), by the hub's clock, in Unix seconds. Absent until its first report since the hub started.",
	}, []string{"district"})
	reg.MustRegister(g)
	return g
}

// reported records that district's report changed an appeal at now. Only a
// change counts: ESD repeats the last instant's changes at every poll, so
// counting repeats would make a silent district look alive.
func (h *Hub) reported(district string, now time.Time) {
	h.metrics.LastReport.WithLabelValues(district).Set(float64(now.Unix()))
}

// DeadLetterCounter is what the dead-letter gauge needs of the ledger.
type DeadLetterCounter interface {
	// OpenDeadLetters counts the dead letters neither replayed nor dropped,
	// by kind; a kind with none may be missing.
	OpenDeadLetters(ctx context.Context) (map[DeadLetterKind]int, error)
}

// DeadLetterCollector puts the open dead letters of each kind on /metrics,
// counted by the ledger at scrape time, zero included. korpu_deliveries_given_up
// cannot stand in: a dropped letter leaves its appeal's delivery failed.
type DeadLetterCollector struct {
	ledger DeadLetterCounter
	open   *prometheus.Desc
}

// NewDeadLetterCollector returns a collector over the ledger.
func NewDeadLetterCollector(ledger DeadLetterCounter) *DeadLetterCollector {
	return &DeadLetterCollector{ledger: ledger, open: prometheus.NewDesc("korpu_dead_letters_open",
		"Dead letters waiting for an operator (neither replayed nor dropped), by kind: poison, appeal, comment.", []string{"kind"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *DeadLetterCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open }

// Collect implements prometheus.Collector. When the ledger does not answer
// the series are left out (korpu_backlog_up and korpu_ready say why) rather
// than failing the whole scrape.
func (c *DeadLetterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	open, err := c.ledger.OpenDeadLetters(ctx)
	if err != nil {
		return
	}
	for _, kind := range []DeadLetterKind{DeadPoison, DeadAppeal, DeadComment} {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open[kind]), string(kind))
	}
}

// WorkingDayCollector tells on /metrics whether today, in Baku, is a working
// day by the hub's calendar, so that alerts on districts' silence can skip
// weekends and holidays: Prometheus knows no holidays.
type WorkingDayCollector struct {
	calendar *calendar.Calendar
	now      func() time.Time
	working  *prometheus.Desc
}

// NewWorkingDayCollector returns a collector over cal on now's clock.
func NewWorkingDayCollector(cal *calendar.Calendar, now func() time.Time) *WorkingDayCollector {
	return &WorkingDayCollector{calendar: cal, now: now, working: prometheus.NewDesc("korpu_working_day",
		"1 when today (in Baku) is a working day by the hub's holiday calendar, 0 on weekends and holidays.", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *WorkingDayCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.working }

// Collect implements prometheus.Collector. Past the calendar's known years
// weekdays are working days, as deadlines are then counted.
func (c *WorkingDayCollector) Collect(ch chan<- prometheus.Metric) {
	today := c.now()
	working, err := c.calendar.IsWorkingDay(today)
	if err != nil {
		wd := today.In(Baku).Weekday()
		working = wd != time.Saturday && wd != time.Sunday
	}
	v := 0.0
	if working {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(c.working, prometheus.GaugeValue, v)
}
