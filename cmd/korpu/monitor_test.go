package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/monitorweb/monitorwebtest"
	"github.com/korpu-az/korpu/routers"
)

// TestWithDashboard: /monitor/ is the dashboard, the rest the hub's API.
func TestWithDashboard(t *testing.T) {
	t.Parallel()
	fake := monitorwebtest.New()
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	now := func() time.Time { return monitorwebtest.Today }
	get := func(h http.Handler, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		return rec.Code
	}
	desk := routers.NewDeadLetterDesk(memory.NewLedger(now), now)
	h, err := withDashboard(api, fake, fake, desk, access.NewTokens(nil), now, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, get(h, "/monitor/"), "the dashboard asks for sign-in")
	require.Equal(t, http.StatusOK, get(h, "/monitor/static/monitor.css"))
	require.Equal(t, http.StatusTeapot, get(h, "/metrics"))
}
