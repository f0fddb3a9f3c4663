package routers

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FiguresCollector puts on /metrics the monitors' figures that the
// backlog's gauges (korpu_appeals_open, korpu_appeals_overdue,
// korpu_deliveries_pending, …) and korpu_dead_letters_open do not have:
// per district, the appeals due soon, those registered today, and the share
// of the last 30 days' answers given on time. It asks the Monitor at
// scrape time but at most once per ttl (the Monitor's clock), so that
// scrapes by several Prometheus servers cannot hammer the ledger; a scrape
// meanwhile gets the last answer.
type FiguresCollector struct {
	monitor *Monitor
	ttl     time.Duration

	mu      sync.Mutex
	at      time.Time // of the cached answer; zero: none yet
	metrics []prometheus.Metric

	dueSoon, today, onTime, up *prometheus.Desc
}

// NewFiguresCollector returns a collector of m's figures, refreshed at
// most once per ttl.
func NewFiguresCollector(m *Monitor, ttl time.Duration) *FiguresCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("korpu_"+name, help, []string{"district"}, nil)
	}
	return &FiguresCollector{
		monitor: m, ttl: ttl,
		dueSoon: desc("appeals_due_soon", "Open appeals with at most 3 working days left before their deadline, not yet overdue."),
		today:   desc("appeals_registered_today", "Appeals registered today (Baku) by the district they were filed with."),
		onTime: desc("appeals_answered_on_time_ratio",
			"Share of the answers of the last 30 days (today included) given by the deadline; absent for a district that answered none."),
		up: prometheus.NewDesc("korpu_figures_up", "1 when the ledger answered the figures' queries at their last refresh.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *FiguresCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dueSoon, c.today, c.onTime, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *FiguresCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.monitor.cfg.Now(); c.at.IsZero() || now.Sub(c.at) >= c.ttl || now.Before(c.at) {
		c.metrics, c.at = c.refresh(), now
	}
	for _, m := range c.metrics {
		ch <- m
	}
}

// refresh asks the ledger for the figures of today and of the last 30
// days. When it does not answer only korpu_figures_up is given (0), as
// the backlog's gauges do.
func (c *FiguresCollector) refresh() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	down := []prometheus.Metric{prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)}
	day, today, dueSoonBy := c.monitor.dates()
	month, err := c.monitor.cfg.Ledger.Figures(ctx, Period{From: day.AddDate(0, 0, 1-lastDays[Period30d]), To: day.AddDate(0, 0, 1)}, today, dueSoonBy)
	if err != nil {
		return down
	}
	registered, err := c.monitor.cfg.Ledger.Figures(ctx, Period{From: day, To: day.AddDate(0, 0, 1)}, today, dueSoonBy)
	if err != nil {
		return down
	}
	out := []prometheus.Metric{prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)}
	for _, code := range c.monitor.cfg.Directory.Codes() {
		f := month[code]
		out = append(out,
			prometheus.MustNewConstMetric(c.dueSoon, prometheus.GaugeValue, float64(f.DueSoon), code),
			prometheus.MustNewConstMetric(c.today, prometheus.GaugeValue, float64(registered[code].Registered), code))
		if f.Answered > 0 {
			out = append(out, prometheus.MustNewConstMetric(c.onTime, prometheus.GaugeValue, f.OnTimeShare(), code))
		}
	}
	return out
}
