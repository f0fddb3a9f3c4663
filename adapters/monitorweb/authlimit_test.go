package monitorweb_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/monitorweb"
	"github.com/korpu-az/korpu/adapters/monitorweb/monitorwebtest"
)

// TestSignInFlood: wrong tokens on the sign-in form and as a bearer
// header are held off per address after the burst and counted; a monitor
// elsewhere signs in, and visits without credentials hold no one off.
func TestSignInFlood(t *testing.T) {
	t.Parallel()
	fake := monitorwebtest.New()
	now := monitorwebtest.Today.Add(10 * time.Hour)
	reg := prometheus.NewRegistry()
	s, err := monitorweb.New(monitorweb.Config{Monitor: fake, Appeals: fake, Access: parties(), DeadLetters: emptyDesk(func() time.Time { return now }), Now: func() time.Time { return now },
		AuthLimit: authlimit.New(authlimit.Config{Burst: 3, Refill: time.Minute, Now: func() time.Time { return now }, Registerer: reg})})
	require.NoError(t, err)
	signIn := func(from, tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/monitor/signin", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	get := func(from, auth string) int {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/monitor/", nil)
		req.RemoteAddr = from
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}

	for range 3 {
		require.Equal(t, http.StatusUnauthorized, signIn("203.0.113.5:1", "guess").Code)
	}
	rec := signIn("203.0.113.5:1", token)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "held off before the token is looked at")
	require.Equal(t, "60", rec.Header().Get("Retry-After"))
	require.Equal(t, http.StatusSeeOther, signIn("198.51.100.20:1", token).Code, "a monitor elsewhere signs in")

	for range 10 {
		require.Equal(t, http.StatusUnauthorized, get("192.0.2.44:1", ""), "the sign-in form, for a visit without credentials")
	}
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, get("192.0.2.44:1", "Bearer guess"))
	}
	require.Equal(t, http.StatusTooManyRequests, get("192.0.2.44:1", "Bearer "+token))
	require.Equal(t, http.StatusOK, get("198.51.100.20:1", "Bearer "+token))

	// A wall screen whose session ended polls on: the hub signed that
	// cookie, so it guesses nothing; a cookie the hub did not sign does.
	session := signIn("198.51.100.20:1", token).Result().Cookies()[0]
	now = now.Add(9 * time.Hour)
	withCookie := func(c *http.Cookie) int {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/monitor/", nil)
		req.RemoteAddr = "192.0.2.99:1"
		req.AddCookie(c)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for range 10 {
		require.Equal(t, http.StatusUnauthorized, withCookie(session), "an ended session is asked to sign in again")
	}
	forged := &http.Cookie{Name: session.Name, Value: session.Value[:len(session.Value)-2] + "xx"}
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, withCookie(forged))
	}
	require.Equal(t, http.StatusTooManyRequests, withCookie(forged))

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP korpu_http_auth_failures_total Failed authentications on the HTTP API and the dashboard, by route pattern and outcome: missing (no credentials), wrong (counted against the source), throttled (answered 429).
# TYPE korpu_http_auth_failures_total counter
korpu_http_auth_failures_total{outcome="missing",route="GET /monitor/{$}"} 20
korpu_http_auth_failures_total{outcome="throttled",route="GET /monitor/{$}"} 2
korpu_http_auth_failures_total{outcome="throttled",route="POST /monitor/signin"} 1
korpu_http_auth_failures_total{outcome="wrong",route="GET /monitor/{$}"} 6
korpu_http_auth_failures_total{outcome="wrong",route="POST /monitor/signin"} 3
`), "korpu_http_auth_failures_total"))
}
