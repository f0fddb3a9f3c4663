package routers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StatsLedger is what the monitors' backlog figures need of the ledger.
type StatsLedger interface {
	// DistrictStats counts, per district, the appeals the monitors watch:
	// those whose answer is not given yet and those past their deadline (a
	// deadline before today), and deliveries pending or failed.
	DistrictStats(ctx context.Context, today string) (map[string]DistrictStats, error)
}

// BacklogCollector puts each district's backlog on /metrics, read from the
// ledger at scrape time: open appeals, those past their legal deadline, and
// deliveries pending or given up. Every configured district has its series,
// zero included, so a monitor's query never finds a hole.
type BacklogCollector struct {
	ledger    StatsLedger
	districts []string
	now       func() time.Time

	open, overdue, pending, failed, up *prometheus.Desc
}

// NewBacklogCollector returns a collector over the ledger for districts.
func NewBacklogCollector(ledger StatsLedger, districts []string, now func() time.Time) *BacklogCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("korpu_"+name, help, []string{"district"}, nil)
	}
	return &BacklogCollector{
		ledger: ledger, districts: districts, now: now,
		open:    desc("appeals_open", "Appeals registered, delivered or in progress: no answer yet."),
		overdue: desc("appeals_overdue", "Open appeals past their legal deadline (15 working days)."),
		pending: desc("deliveries_pending", "Appeals not yet handed over to their district's system."),
		failed:  desc("deliveries_given_up", "Appeals whose delivery the hub gave up on: dead letters to act on."),
		up:      prometheus.NewDesc("korpu_backlog_up", "1 when the ledger answered the backlog query at this scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *BacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.overdue, c.pending, c.failed, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *BacklogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	stats, err := c.ledger.DistrictStats(ctx, c.now().In(Baku).Format(time.DateOnly))
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, code := range c.districts {
		st := stats[code]
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.Open), code)
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(st.Overdue), code)
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.PendingDelivery), code)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(st.FailedDeliveries), code)
	}
}
