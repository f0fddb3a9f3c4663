package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi"
)

// TestReadyMetrics: korpu_ready and korpu_ready_check are what /readyz
// answers, from the same checks, run again at each scrape.
func TestReadyMetrics(t *testing.T) {
	t.Parallel()
	var brokerDown atomic.Bool
	checks := []httpapi.Check{
		{Name: "postgres", Check: func(context.Context) error { return nil }},
		{Name: "rabbitmq", Check: func(context.Context) error {
			if brokerDown.Load() {
				return errors.New("connection refused")
			}
			return nil
		}},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(httpapi.NewReadyCollector(checks))
	api := newAPI(t, &fakeReporter{}, reg, checks...)
	scrape := func(want string) {
		t.Helper()
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "korpu_ready", "korpu_ready_check"))
	}

	require.Equal(t, http.StatusOK, serve(api, http.MethodGet, "/readyz", "", "").Code)
	scrape(`
# HELP korpu_ready 1 when every readiness check passes (what /readyz answers 200 to), 0 otherwise.
# TYPE korpu_ready gauge
korpu_ready 1
# HELP korpu_ready_check 1 when the readiness check passes, 0 when it fails, by check (postgres, rabbitmq, router).
# TYPE korpu_ready_check gauge
korpu_ready_check{check="postgres"} 1
korpu_ready_check{check="rabbitmq"} 1
`)

	brokerDown.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, serve(api, http.MethodGet, "/readyz", "", "").Code)
	scrape(`
# HELP korpu_ready 1 when every readiness check passes (what /readyz answers 200 to), 0 otherwise.
# TYPE korpu_ready gauge
korpu_ready 0
# HELP korpu_ready_check 1 when the readiness check passes, 0 when it fails, by check (postgres, rabbitmq, router).
# TYPE korpu_ready_check gauge
korpu_ready_check{check="postgres"} 1
korpu_ready_check{check="rabbitmq"} 0
`)
}

// TestReadyMetricsBounded: a check that hangs costs a scrape the readiness
// budget, then counts as failed.
func TestReadyMetricsBounded(t *testing.T) {
	t.Parallel()
	hang := httpapi.Check{Name: "postgres", Check: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	c := httpapi.NewReadyCollector([]httpapi.Check{hang})
	start := time.Now()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP korpu_ready 1 when every readiness check passes (what /readyz answers 200 to), 0 otherwise.
# TYPE korpu_ready gauge
korpu_ready 0
# HELP korpu_ready_check 1 when the readiness check passes, 0 when it fails, by check (postgres, rabbitmq, router).
# TYPE korpu_ready_check gauge
korpu_ready_check{check="postgres"} 0
`)))
	require.Less(t, time.Since(start), 5*time.Second)
}
