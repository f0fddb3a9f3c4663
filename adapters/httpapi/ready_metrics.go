package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readyBudget bounds one round of the readiness checks, for /readyz and a
// scrape alike.
const readyBudget = 2 * time.Second

// runChecks runs every check within readyBudget and returns each one's
// error (nil: passed) by name, and whether all passed.
func runChecks(ctx context.Context, checks []Check) (map[string]error, bool) {
	ctx, cancel := context.WithTimeout(ctx, readyBudget)
	defer cancel()
	results := make(map[string]error, len(checks))
	ready := true
	for _, c := range checks {
		err := c.Check(ctx)
		results[c.Name] = err
		ready = ready && err == nil
	}
	return results, ready
}

// ReadyCollector puts on /metrics what /readyz answers, from the same
// checks run at scrape time: korpu_ready, and korpu_ready_check per check so
// an alert can say which one fails.
type ReadyCollector struct {
	checks       []Check
	ready, check *prometheus.Desc
}

// NewReadyCollector returns a collector running checks at each scrape.
func NewReadyCollector(checks []Check) *ReadyCollector {
	return &ReadyCollector{
		checks: checks,
		ready:  prometheus.NewDesc("korpu_ready", "1 when every readiness check passes (what /readyz answers 200 to), 0 otherwise.", nil, nil),
		check:  prometheus.NewDesc("korpu_ready_check", "1 when the readiness check passes, 0 when it fails, by check (postgres, rabbitmq, router).", []string{"check"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ReadyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ready
	ch <- c.check
}

// Collect implements prometheus.Collector.
func (c *ReadyCollector) Collect(ch chan<- prometheus.Metric) {
	results, ready := runChecks(context.Background(), c.checks)
	for name, err := range results {
		ch <- prometheus.MustNewConstMetric(c.check, prometheus.GaugeValue, gauge(err == nil), name)
	}
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, gauge(ready))
}

func gauge(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}
