package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// TestWiringLimitsAuthFailures: the hub as serve wires it holds off an
// address after hub.auth_failure_burst wrong tokens, on the API and the
// dashboard alike, and /metrics counts them.
func TestWiringLimitsAuthFailures(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../deploy/korpu.compose.yaml")
	require.NoError(t, err)
	getenv := func(name string) (string, bool) { return "set-" + name + "-0123456789abcdefghijklmnopqrstuv", true }
	cfg, err := config.Parse(append(raw, []byte("hub:\n  auth_failure_burst: 2\n")...), getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	w := wiredAsServe(t, cfg)
	send := func(method, target, body string) int {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer guess")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		w.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, target := range []string{"/v1/districts/AZ-SAT/status", "/monitor/"} {
		method := http.MethodPost
		if target == "/monitor/" {
			method = http.MethodGet
		}
		require.Equal(t, http.StatusUnauthorized, send(method, target, "{}"))
		require.Equal(t, http.StatusUnauthorized, send(method, target, "{}"))
		require.Equal(t, http.StatusTooManyRequests, send(method, target, "{}"), target)
	}
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), `korpu_http_auth_failures_total{outcome="throttled",route="POST /v1/districts/{code}/status"} 1`)
	require.Contains(t, rec.Body.String(), `korpu_http_auth_failures_total{outcome="wrong",route="GET /monitor/{$}"} 2`)
}
