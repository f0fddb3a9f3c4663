package httpapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
)

// TestAuthFailureFlood: 200 wrong tokens in a burst from one address are
// refused 10 times and then held off with 429 and Retry-After, every one
// counted; a district calling from elsewhere with its token is served.
func TestAuthFailureFlood(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	limit := authlimit.New(authlimit.Config{Burst: 10, Refill: 10 * time.Second, Now: func() time.Time { return now }, Registerer: reg})
	reporter := &fakeReporter{}
	api := openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access: testAccess(), Reporter: reporter, Gatherer: reg, Logger: slog.New(slog.DiscardHandler), AuthLimit: limit,
	}))
	post := func(from, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, bilPath, strings.NewReader(report))
		req.RemoteAddr = from
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}
	codes := map[int]int{}
	for i := range 200 {
		rec := post("203.0.113.5:"+strconv.Itoa(40000+i), "Bearer guess-"+strconv.Itoa(i))
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			require.Equal(t, "10", rec.Header().Get("Retry-After"))
		}
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: 190}, codes)
	require.Equal(t, http.StatusOK, post("198.51.100.20:443", bilAuth).Code, "the district from its own address")
	require.Len(t, reporter.received(), 1)

	const route = "POST /v1/districts/{code}/status"
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP korpu_http_auth_failures_total Failed authentications on the HTTP API and the dashboard, by route pattern and outcome: missing (no credentials), wrong (counted against the source), throttled (answered 429).
# TYPE korpu_http_auth_failures_total counter
korpu_http_auth_failures_total{outcome="throttled",route="`+route+`"} 190
korpu_http_auth_failures_total{outcome="wrong",route="`+route+`"} 10
`), "korpu_http_auth_failures_total"))
}
