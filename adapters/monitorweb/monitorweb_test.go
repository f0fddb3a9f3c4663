package monitorweb_test

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/monitorweb"
	"github.com/korpu-az/korpu/adapters/monitorweb/monitorwebtest"
	"github.com/korpu-az/korpu/routers"
)

const (
	token         = "monitor-secret-token"
	operatorToken = "operator-secret-token"
	portalToken   = "portal-secret-token"
)

var (
	centralMonitors = access.Party{Name: "central-monitors", Role: access.RoleMonitor}
	dutyOperator    = access.Party{Name: "duty-operator", Role: access.RoleOperator}
)

// parties is the access list of the tests: a monitor, an operator and the portal.
func parties() *access.Tokens {
	return access.NewTokens(access.NewTable(map[string]access.Party{
		token: centralMonitors, operatorToken: dutyOperator, portalToken: {Name: "portal", Role: access.RolePortal},
	}))
}

// clock is the hub's clock as the tests move it.
type clock struct{ now atomic.Pointer[time.Time] }

func (c *clock) Now() time.Time  { return *c.now.Load() }
func (c *clock) Set(t time.Time) { c.now.Store(&t) }

type fixture struct {
	fake    *monitorwebtest.Fake
	clock   *clock
	ledger  *memory.Ledger // the dead letters and the operators' record
	handler http.Handler
	cookie  *http.Cookie // a signed-in monitor's session
	access  *access.Tokens
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{fake: monitorwebtest.New(), clock: &clock{}}
	f.clock.Set(monitorwebtest.Today.Add(10 * time.Hour))
	f.ledger = memory.NewLedger(f.clock.Now)
	f.access = parties()
	s, err := monitorweb.New(monitorweb.Config{Monitor: f.fake, Appeals: f.fake, Access: f.access, Now: f.clock.Now,
		DeadLetters: routers.NewDeadLetterDesk(f.ledger, f.clock.Now)})
	require.NoError(t, err)
	f.handler = s
	f.cookie = f.signIn(t, token, "", nil)
	require.NotNil(t, f.cookie)
	return f
}

// emptyDesk is a dead-letter desk with no letters, for dashboards the test
// does not act on.
func emptyDesk(now func() time.Time) monitorweb.DeadLetters {
	return routers.NewDeadLetterDesk(memory.NewLedger(now), now)
}

// signIn posts the form as the browser does; it returns the session cookie
// set, if any.
func (f *fixture) signIn(t *testing.T, tok, next string, tlsState *tls.ConnectionState) *http.Cookie {
	t.Helper()
	rec := f.post(t, "/monitor/signin", url.Values{"token": {tok}, "next": {next}}, tlsState)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "korpu_monitor" {
			return c
		}
	}
	return nil
}

func (f *fixture) post(t *testing.T, target string, form url.Values, tlsState *tls.ConnectionState) *httptest.ResponseRecorder {
	t.Helper()
	req := formPost(t, target, form)
	req.TLS = tlsState
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// formPost is a form posted from the dashboard's own page.
func formPost(t *testing.T, target string, form url.Values) *http.Request {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// get asks as the signed-in monitor (the session cookie), with the headers given.
func (f *fixture) get(t *testing.T, target string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return f.getWith(t, target, f.cookie, headers...)
}

func (f *fixture) getWith(t *testing.T, target string, c *http.Cookie, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if c != nil {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// rowOrder lists the districts of the country table in the order shown.
func rowOrder(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-district="([A-Z-]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	t.Run("CookieAttributes", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.post(t, "/monitor/signin", url.Values{"token": {token}, "next": {"/monitor/districts/AZ-SAB?lang=en"}}, nil)
		require.Equal(t, http.StatusSeeOther, rec.Code)
		require.Equal(t, "/monitor/districts/AZ-SAB?lang=en", rec.Header().Get("Location"), "back to the page asked for")
		c := rec.Result().Cookies()[0]
		require.Equal(t, "korpu_monitor", c.Name)
		require.True(t, c.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, c.SameSite)
		require.Equal(t, "/monitor/", c.Path)
		require.False(t, c.Secure, "plain HTTP")
		require.Equal(t, 8*3600, c.MaxAge)
		require.NotContains(t, c.Value, token)
	})
	t.Run("SecureOverTLS", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		c := f.signIn(t, token, "", &tls.ConnectionState{})
		require.True(t, c.Secure)
	})
	t.Run("NoOpenRedirect", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, next := range []string{"https://evil.example/", "//evil.example/", "/monitor//evil.example", "/elsewhere", "/monitor/\\evil"} {
			rec := f.post(t, "/monitor/signin", url.Values{"token": {token}, "next": {next}}, nil)
			require.Equal(t, "/monitor/", rec.Header().Get("Location"), next)
		}
	})
	t.Run("WrongToken", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, tok := range []string{"", "monitor-secret-toke", token + "x", "MONITOR-SECRET-TOKEN"} {
			rec := f.post(t, "/monitor/signin", url.Values{"token": {tok}}, nil)
			require.Equal(t, http.StatusUnauthorized, rec.Code, tok)
			require.Empty(t, rec.Result().Cookies(), tok)
			body := rec.Body.String()
			require.Contains(t, body, "Giriş nişanı yanlışdır.", "the form again, with the message")
			require.Contains(t, body, `id="token"`)
			require.NotContains(t, body, token, "nothing of the right token")
		}
	})
	t.Run("CrossSitePostRefused", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/monitor/signin", strings.NewReader("token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusForbidden, rec.Code)
		require.Empty(t, rec.Result().Cookies())
	})
	t.Run("SignOut", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.post(t, "/monitor/signout", nil, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		c := rec.Result().Cookies()[0]
		require.Equal(t, "korpu_monitor", c.Name)
		require.Negative(t, c.MaxAge, "the cookie is deleted")
		require.Contains(t, rec.Body.String(), "Sessiya bağlandı.")
	})
}

func TestSession(t *testing.T) {
	t.Parallel()
	t.Run("SignedInSeesTheCountry", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.get(t, "/monitor/")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), `<table id="districts"`)
	})
	t.Run("NoSessionGetsTheForm", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.getWith(t, "/monitor/districts/AZ-SAB?period=7d", nil)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		body := rec.Body.String()
		require.Contains(t, body, `id="token"`)
		require.Contains(t, body, `name="next" value="/monitor/districts/AZ-SAB?period=7d"`, "sign-in leads back here")
		require.NotContains(t, body, "Sabirabad", "no figures before sign-in")
	})
	t.Run("Expired", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.clock.Set(f.clock.Now().Add(8*time.Hour - time.Second))
		require.Equal(t, http.StatusOK, f.get(t, "/monitor/").Code, "just inside 8 h")
		f.clock.Set(f.clock.Now().Add(time.Second))
		require.Equal(t, http.StatusUnauthorized, f.get(t, "/monitor/").Code, "8 h after sign-in, whatever the browser keeps")
	})
	t.Run("ClockSetBack", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.clock.Set(f.clock.Now().Add(-time.Hour))
		require.Equal(t, http.StatusUnauthorized, f.get(t, "/monitor/").Code, "a session longer than 8 h from now is not one this hub gave")
	})
	t.Run("Tampered", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		parts := strings.Split(f.cookie.Value, ".")
		require.Len(t, parts, 5)
		require.Equal(t, []string{"v2", "central-monitors", "monitor"}, parts[:3], "the cookie names the party and its role")
		later := regexp.MustCompile(`^\d+$`).ReplaceAllStringFunc(parts[3], func(s string) string { return s[:len(s)-1] + "9" })
		join := func(p ...string) string { return strings.Join(p, ".") }
		for name, value := range map[string]string{
			"LaterExpiry": join(parts[0], parts[1], parts[2], later, parts[4]),
			"OtherMAC":    join(parts[0], parts[1], parts[2], parts[3], strings.Repeat("A", len(parts[4]))),
			"NoMAC":       join(parts[:4]...),
			"OtherParty":  join(parts[0], "duty-operator", parts[2], parts[3], parts[4]),
			"RaisedRole":  join(parts[0], parts[1], "operator", parts[3], parts[4]),
			"OldVersion":  join("v1", parts[3], parts[4]),
			"Garbage":     "x",
			"Empty":       "",
		} {
			rec := f.getWith(t, "/monitor/", &http.Cookie{Name: "korpu_monitor", Value: value})
			require.Equal(t, http.StatusUnauthorized, rec.Code, name)
		}
	})
	t.Run("OtherTokenOtherKey", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		// Another hub with the same token takes the cookie; one whose token changed does not.
		same, err := monitorweb.New(monitorweb.Config{Monitor: f.fake, Appeals: f.fake, Access: parties(), Now: f.clock.Now, DeadLetters: emptyDesk(f.clock.Now)})
		require.NoError(t, err)
		changed, err := monitorweb.New(monitorweb.Config{Monitor: f.fake, Appeals: f.fake, Now: f.clock.Now, DeadLetters: emptyDesk(f.clock.Now),
			Access: access.NewTokens(access.NewTable(map[string]access.Party{token + "-new": centralMonitors}))})
		require.NoError(t, err)
		for h, want := range map[http.Handler]int{same: http.StatusOK, changed: http.StatusUnauthorized} {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/monitor/", nil)
			req.AddCookie(f.cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, want, rec.Code)
		}
	})
	t.Run("Bearer", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.getWith(t, "/monitor/export.csv?district=AZ-SAB", nil, "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
		rec = f.getWith(t, "/monitor/", nil, "Authorization", "Bearer wrong")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, `Bearer realm="korpu"`, rec.Header().Get("WWW-Authenticate"))
		rec = f.get(t, "/monitor/", "Authorization", "Bearer wrong")
		require.Equal(t, http.StatusUnauthorized, rec.Code, "a wrong bearer is not rescued by a cookie")
	})
	t.Run("LiveUpdateAfterExpiryReloads", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		rec := f.getWith(t, "/monitor/", nil, "HX-Request", "true")
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		require.Equal(t, "true", rec.Header().Get("HX-Refresh"))
		require.Empty(t, rec.Body.String())
	})
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, path := range []string{"/monitor/", "/monitor/districts/AZ-SAB", "/monitor/appeals/" + monitorwebtest.Overdue, "/monitor/nothing"} {
		rec := f.get(t, path)
		h := rec.Header()
		require.Equal(t, "private, no-store", h.Get("Cache-Control"), path)
		require.Contains(t, h.Get("Content-Security-Policy"), "script-src 'self'", path)
		require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'", path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
	}
	rec := f.getWith(t, "/monitor/static/htmx.min.js", nil)
	require.Equal(t, http.StatusOK, rec.Code, "the assets are public and embedded")
	require.Contains(t, rec.Body.String(), `version:"2.0.`)
	rec = f.getWith(t, "/monitor/static/htmx.LICENSE", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "Zero-Clause BSD")
	// No inline script or style anywhere, which the CSP would block.
	body := f.get(t, "/monitor/").Body.String()
	require.NotRegexp(t, `<script>|<script [^>]*>[^<]|<style| style=`, body)
	require.NotContains(t, body, "http://")
	require.NotContains(t, body, "https://")
}

func TestCountry(t *testing.T) {
	t.Parallel()
	t.Run("RowsAndTotals", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		body := f.get(t, "/monitor/").Body.String()
		require.Equal(t, []string{"AZ-BIL", "AZ-IMI", "AZ-SAT", "AZ-SAB"}, rowOrder(body), "by name in Azerbaijani order: İ after I, not after Z")
		require.Contains(t, body, `<caption id="districts-caption">`)
		require.Contains(t, body, `<th scope="col" aria-sort="ascending"><a id="sort-name"`)
		require.Regexp(t, `<tr data-district="AZ-SAB" class="late">\s*<th scope="row"><a [^>]*>Sabirabad rayon İcra Hakimiyyəti</a> <span class="badge-late"><span aria-hidden="true">⚠</span> gecikir</span>`, body,
			"a late district says so in words, not by colour alone")
		require.NotRegexp(t, `<tr data-district="AZ-SAT" class="late">`, body)
		// Sabirabad: 46 of 50 on time, p50 6 days; unknown queue shown as a dash, unknown population too.
		require.Contains(t, body, `<td class="num" data-col="on_time">92,0%</td>`)
		require.Contains(t, body, `<td class="num" data-col="p50">6,0</td>`)
		require.Regexp(t, `data-district="AZ-SAT"(?s:.*?)data-col="queue">—<`, body)
		require.Regexp(t, `data-district="AZ-IMI"(?s:.*?)data-col="per_thousand">—<`, body)
		require.Regexp(t, `data-district="AZ-SAB"(?s:.*?)data-col="per_thousand">0,75<`, body, "131 registered per 175,000 residents")
		require.Regexp(t, `data-district="AZ-SAB"(?s:.*?)data-col="breaker">kəsilib<`, body)
		// The country's totals: 435 received.
		require.Regexp(t, `<tfoot><tr data-district="">\s*<th scope="row">Ölkə üzrə</th>\s*<td class="num" data-col="received">435</td>`, body)
	})
	t.Run("Sorting", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		cases := []struct {
			query, aria string
			want        []string
		}{
			{"sort=overdue", "descending", []string{"AZ-SAB", "AZ-BIL", "AZ-IMI", "AZ-SAT"}},
			{"sort=overdue&dir=asc", "ascending", []string{"AZ-BIL", "AZ-IMI", "AZ-SAT", "AZ-SAB"}},
			{"sort=received&dir=desc", "descending", []string{"AZ-SAB", "AZ-BIL", "AZ-IMI", "AZ-SAT"}},
			{"sort=on_time&dir=asc", "ascending", []string{"AZ-IMI", "AZ-SAB", "AZ-BIL", "AZ-SAT"}},
			{"sort=queue", "descending", []string{"AZ-SAB", "AZ-IMI", "AZ-BIL", "AZ-SAT"}},
			{"sort=breaker", "descending", []string{"AZ-SAB", "AZ-IMI", "AZ-BIL", "AZ-SAT"}},
			{"sort=name&dir=desc", "descending", []string{"AZ-SAB", "AZ-SAT", "AZ-IMI", "AZ-BIL"}},
		}
		for _, tc := range cases {
			body := f.get(t, "/monitor/?"+tc.query).Body.String()
			require.Equal(t, tc.want, rowOrder(body), tc.query)
			key := regexp.MustCompile(`sort=(\w+)`).FindStringSubmatch(tc.query)[1]
			require.Contains(t, body, `aria-sort="`+tc.aria+`"><a id="sort-`+key+`"`, tc.query)
			require.Equal(t, 1, strings.Count(body, "aria-sort="), "only the sorted column says so")
		}
		// The sorted column's link turns it round; another's sorts it by its natural direction; the period stays.
		body := f.get(t, "/monitor/?sort=overdue&period=7d").Body.String()
		require.Contains(t, body, `id="sort-overdue" href="/monitor/?dir=asc&amp;period=7d&amp;sort=overdue"`)
		require.Contains(t, body, `id="sort-open" href="/monitor/?dir=desc&amp;period=7d&amp;sort=open"`)
		require.Contains(t, body, `id="sort-name" href="/monitor/?dir=asc&amp;period=7d&amp;sort=name"`)
	})
	t.Run("Chart", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		body := f.get(t, "/monitor/").Body.String()
		require.Contains(t, body, `role="img" aria-labelledby="chart-title chart-desc"`)
		require.Contains(t, body, `<title id="chart-title">Gündəlik qeydiyyata alınan müraciətlər, son 90 gün, növlərə görə</title>`)
		require.Equal(t, 90, strings.Count(body, "<g><title>"), "a bar a day")
		require.Contains(t, body, `<th scope="row">2025-12-19</th>`, "the table alternative starts 89 days before today")
		require.Contains(t, body, `<th scope="row">2026-03-18</th>`)
	})
	t.Run("Live", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		body := f.get(t, "/monitor/?sort=received").Body.String()
		m := regexp.MustCompile(`<div id="live" hx-get="([^"]+)" hx-trigger="every 5s" hx-swap="outerHTML">`).FindStringSubmatch(body)
		require.NotNil(t, m, "the live part polls every 5 s")
		liveURL := strings.ReplaceAll(m[1], "&amp;", "&")
		require.Contains(t, liveURL, "sort=received")
		rec := f.get(t, liveURL, "HX-Request", "true")
		require.Equal(t, http.StatusNoContent, rec.Code, "nothing changed: nothing to swap")
		f.fake.Bump("AZ-SAT", 5)
		rec = f.get(t, liveURL, "HX-Request", "true")
		require.Equal(t, http.StatusOK, rec.Code)
		frag := rec.Body.String()
		require.True(t, strings.HasPrefix(frag, `<div id="live"`), "the fragment alone")
		require.NotContains(t, frag, "<html")
		require.Regexp(t, `data-district="AZ-SAT"(?s:.*?)data-col="received">85<`, frag)
		require.Equal(t, "HX-Request", rec.Header().Get("Vary"))
	})
	t.Run("Unavailable", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.fake.Fail(errors.New("ledger down"))
		rec := f.get(t, "/monitor/")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "5", rec.Header().Get("Retry-After"))
		require.Contains(t, rec.Body.String(), "Məlumatlar hazırda alınmır.")
		require.NotContains(t, rec.Body.String(), "ledger down", "no detail of the failure")
	})
}

func TestBadParameters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name, target, param string
		status              int
	}{
		{"Period", "/monitor/?period=week", "period", http.StatusBadRequest},
		{"FromShape", "/monitor/?period=range&from=2026-3-1&to=2026-03-10", "from", http.StatusBadRequest},
		{"FromMissing", "/monitor/?period=range&to=2026-03-10", "from", http.StatusBadRequest},
		{"ToBeforeFrom", "/monitor/?period=range&from=2026-03-10&to=2026-03-01", "to", http.StatusBadRequest},
		{"SpanTooLong", "/monitor/?period=range&from=2024-01-01&to=2026-03-01", "period", http.StatusBadRequest},
		{"Date", "/monitor/?period=range&from=2026-02-30&to=2026-03-01", "from", http.StatusBadRequest},
		{"Sort", "/monitor/?sort=Name", "sort", http.StatusBadRequest},
		{"SortInjection", "/monitor/?sort=%3Cscript%3E", "sort", http.StatusBadRequest},
		{"Dir", "/monitor/?sort=open&dir=up", "dir", http.StatusBadRequest},
		{"Lang", "/monitor/?lang=ru", "lang", http.StatusBadRequest},
		{"Twice", "/monitor/?period=7d&period=30d", "period", http.StatusBadRequest},
		{"Version", "/monitor/?v=zz", "v", http.StatusBadRequest},
		{"QueryTooLong", "/monitor/?x=" + strings.Repeat("a", 2000), "query", http.StatusBadRequest},
		{"BadEncoding", "/monitor/?period=%zz", "query", http.StatusBadRequest},
		{"DistrictPeriod", "/monitor/districts/AZ-SAB?period=x", "period", http.StatusBadRequest},
		{"ExportPeriod", "/monitor/export.csv?period=range&from=2026-03-01", "to", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := f.get(t, tc.target)
			require.Equal(t, tc.status, rec.Code)
			require.Contains(t, rec.Body.String(), "«"+tc.param+"» parametri yanlışdır", "the page names the parameter")
		})
	}
	notFound := []struct{ name, target, message string }{
		{"UnknownDistrict", "/monitor/districts/AZ-XYZ", "Belə rayon hub-a qoşulmayıb."},
		{"MalformedDistrict", "/monitor/districts/%3Cb%3E", "Belə rayon hub-a qoşulmayıb."},
		{"ExportUnknownDistrict", "/monitor/export.csv?district=AZ-XYZ", "Belə rayon hub-a qoşulmayıb."},
		{"ExportMalformedDistrict", "/monitor/export.csv?district=..%2F", "Belə rayon hub-a qoşulmayıb."},
		{"UnknownAppeal", "/monitor/appeals/AZ-SAB-2026-999999", "Belə müraciət yoxdur."},
		{"MalformedAppeal", "/monitor/appeals/AZ-SAB-17", "«number» parametri müraciət nömrəsi deyil"},
		{"SearchMalformed", "/monitor/search?number=17", "«number» parametri müraciət nömrəsi deyil"},
		{"Page", "/monitor/nothing", "Belə səhifə yoxdur."},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := f.get(t, tc.target)
			require.Equal(t, http.StatusNotFound, rec.Code)
			require.Contains(t, rec.Body.String(), tc.message)
		})
	}
	t.Run("EnglishMessage", func(t *testing.T) {
		t.Parallel()
		rec := f.get(t, "/monitor/?period=week&lang=en")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Contains(t, rec.Body.String(), "The parameter “period” is wrong: must be today, 7d, 30d, year or range.")
	})
}

func TestDistrict(t *testing.T) {
	t.Parallel()
	f := setup(t)
	rec := f.get(t, "/monitor/districts/AZ-SAB?period=7d")
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, "<h1>Sabirabad rayon İcra Hakimiyyəti")
	require.Contains(t, body, `id="late"`)
	require.Contains(t, body, `<dd id="fig-overdue">2</dd>`)
	// Services by their catalogue names.
	require.Contains(t, body, `<tr data-service="minor-guardianship"><th scope="row">Yetkinlik yaşına çatmayana qəyyum və ya himayəçi təyin edilməsi</th>`)
	// The overdue list, oldest first, each opening the appeal's page.
	i := strings.Index(body, `data-number="AZ-SAB-2026-000009"`)
	j := strings.Index(body, `data-number="`+monitorwebtest.Overdue+`"`)
	require.Positive(t, i)
	require.Greater(t, j, i, "oldest deadline first")
	require.Contains(t, body, `<a id="a-`+monitorwebtest.Overdue+`" href="/monitor/appeals/`+monitorwebtest.Overdue+`">`)
	require.Contains(t, body, `data-number="AZ-SAB-2026-000031"`, "due soon")
	require.Contains(t, body, `href="/monitor/export.csv?district=AZ-SAB&amp;period=7d"`)
	require.Contains(t, body, `<option value="7d" selected>`)

	body = f.get(t, "/monitor/districts/AZ-SAT").Body.String()
	require.Contains(t, body, `id="overdue-none"`, "no overdue appeals, in words")
}

func TestAppeal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := f.get(t, "/monitor/appeals/"+monitorwebtest.Overdue).Body.String()
	require.Contains(t, body, "<h1>Müraciət "+monitorwebtest.Overdue+"</h1>")
	require.Contains(t, body, `data-status="in_progress">Baxılır</span>`)
	require.Contains(t, body, `<dd id="deadline">2026-03-10</dd>`)
	require.Contains(t, body, "Su idarəsinə sorğu göndərilib.", "the timeline's notes")
	require.Contains(t, body, "Kəndimizdə üç həftədir içməli su yoxdur.", "what the citizen sent")
	require.Contains(t, body, "<dd>5ZK8M2R</dd>", "the monitors see the FİN")
	require.Contains(t, body, "Süleymanova Nigar Rauf qızı")
	require.Contains(t, body, "akt.pdf")

	rec := f.get(t, "/monitor/search?number=+az-sab-2026-000017+")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, "/monitor/appeals/"+monitorwebtest.Overdue, rec.Header().Get("Location"))
	rec = f.get(t, "/monitor/search?number=AZ-SAB-2026-000017&lang=en")
	require.Equal(t, "/monitor/appeals/"+monitorwebtest.Overdue+"?lang=en", rec.Header().Get("Location"))
}

// TestNoFINInLogs: the dashboard's logs name appeals by number, never
// their citizens, even when a read fails.
func TestNoFINInLogs(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	fake := monitorwebtest.New()
	c := &clock{}
	c.Set(monitorwebtest.Today)
	s, err := monitorweb.New(monitorweb.Config{Monitor: fake, Appeals: fake, Access: parties(), Now: c.Now, Logger: testLogger(&logs), DeadLetters: emptyDesk(c.Now)})
	require.NoError(t, err)
	for _, fail := range []error{nil, errors.New("ledger down")} {
		fake.Fail(fail)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/monitor/appeals/"+monitorwebtest.Overdue, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}
	require.Contains(t, logs.String(), "appeal details", "the failure is logged")
	require.NotContains(t, logs.String(), "5ZK8M2R")
}

func TestExport(t *testing.T) {
	t.Parallel()
	f := setup(t)
	reg := monitorwebtest.Today.Add(-48*time.Hour + 9*time.Hour)
	f.fake.SetLifecycles([]routers.Lifecycle{
		{Number: "AZ-SAB-2026-000001", District: "AZ-SAB", Service: "appeal", Type: "complaint", Status: routers.StatusAnswered, Deadline: "2026-04-07",
			RegisteredAt: reg, DeliveredAt: reg.Add(time.Minute), InProgressAt: reg.Add(time.Hour), AnsweredAt: reg.Add(26 * time.Hour)},
		// Hostile cells: a formula, a quote and a comma, a line break.
		{Number: "AZ-SAB-2026-000002", District: "AZ-SAB", Service: "=HYPERLINK(\"http://x\")", Type: "+1", Status: "-2", Deadline: "@SUM(A1)", RegisteredAt: reg},
		{Number: "AZ-SAB-2026-000003", District: "AZ-SAB", Service: `a "b", c`, Type: "line\nbreak", Status: routers.StatusRegistered, RegisteredAt: reg},
		{Number: "AZ-BIL-2026-000004", District: "AZ-BIL", Service: "appeal", Type: "proposal", Status: routers.StatusRegistered, RegisteredAt: reg},
		{Number: "AZ-SAB-2025-000999", District: "AZ-SAB", Service: "appeal", Type: "proposal", Status: routers.StatusClosed, RegisteredAt: reg.AddDate(0, 0, -60)},
	})
	rec := f.get(t, "/monitor/export.csv?district=AZ-SAB&period=7d")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, `attachment; filename="korpu-AZ-SAB-2026-03-12-2026-03-18.csv"`, rec.Header().Get("Content-Disposition"))
	require.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
	raw := rec.Body.String()
	require.Contains(t, raw, `"'=HYPERLINK(""http://x"")"`, "RFC 4180 quoting, the formula defused")
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"number", "district", "service", "type", "status", "deadline", "registered_at", "delivered_at", "first_in_progress_at", "answered_at", "closed_at"},
		{"AZ-SAB-2026-000001", "AZ-SAB", "appeal", "complaint", "answered", "2026-04-07",
			"2026-03-16T09:00:00+04:00", "2026-03-16T09:01:00+04:00", "2026-03-16T10:00:00+04:00", "2026-03-17T11:00:00+04:00", ""},
		{"AZ-SAB-2026-000002", "AZ-SAB", `'=HYPERLINK("http://x")`, "'+1", "'-2", "'@SUM(A1)", "2026-03-16T09:00:00+04:00", "", "", "", ""},
		{"AZ-SAB-2026-000003", "AZ-SAB", `a "b", c`, "line\nbreak", "registered", "", "2026-03-16T09:00:00+04:00", "", "", "", ""},
	}, rows, "the district's appeals of the period, steps not reached empty")

	rows, err = csv.NewReader(strings.NewReader(f.get(t, "/monitor/export.csv?period=7d").Body.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5, "every district: the header and four appeals")

	rec = f.get(t, "/monitor/export.csv?district=AZ-SAT&period=today")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "number,district,service,type,status,deadline,registered_at,delivered_at,first_in_progress_at,answered_at,closed_at\n", rec.Body.String(),
		"no appeals: the header alone")
}

// cutShort is a Monitor whose export fails after two rows.
type cutShort struct{ *monitorwebtest.Fake }

func (c cutShort) Lifecycles(ctx context.Context, district string, p routers.Period, fn func(routers.Lifecycle) error) error {
	n := 0
	err := c.Fake.Lifecycles(ctx, district, p, func(lc routers.Lifecycle) error {
		if n++; n > 2 {
			return errors.New("ledger gone")
		}
		return fn(lc)
	})
	if err != nil {
		return fmt.Errorf("lifecycles: %w", err)
	}
	return nil
}

// TestExportCutShort: once rows went out, a failure cuts the connection,
// so the download fails instead of looking complete.
func TestExportCutShort(t *testing.T) {
	t.Parallel()
	fake := monitorwebtest.New()
	s, err := monitorweb.New(monitorweb.Config{Monitor: cutShort{fake}, Appeals: fake, Access: parties(), Now: func() time.Time { return monitorwebtest.Today },
		DeadLetters: emptyDesk(time.Now)})
	require.NoError(t, err)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/monitor/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	require.PanicsWithValue(t, http.ErrAbortHandler, func() { s.ServeHTTP(rec, req) })
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	az := f.get(t, "/monitor/").Body.String()
	require.Contains(t, az, `<html lang="az">`)
	require.Contains(t, az, "<h1>Rayonlar üzrə vəziyyət</h1>")
	require.Contains(t, az, `<a href="/monitor/?lang=en" hreflang="en" lang="en"`)
	en := f.get(t, "/monitor/?lang=en&sort=open").Body.String()
	require.Contains(t, en, `<html lang="en">`)
	require.Contains(t, en, "<h1>Districts at a glance</h1>")
	require.Contains(t, en, `<td class="num" data-col="on_time">92.0%</td>`, "a decimal point in English")
	require.Contains(t, en, `href="/monitor/?sort=open" hreflang="az"`, "back to Azerbaijani, keeping the page")
	require.Contains(t, en, `href="/monitor/districts/AZ-SAB?lang=en&amp;period=30d"`, "links keep the language")
	require.Contains(t, en, `<input type="hidden" name="lang" value="en">`, "forms keep it too")
	require.Contains(t, en, `</span> late</span>`)
	// Every input has its label.
	inputs := regexp.MustCompile(`<(?:input|select)\b[^>]*>`).FindAllString(en, -1)
	require.Len(t, inputs, 8, "the search, the period and its two dates, and hidden fields for what the forms keep")
	for _, in := range inputs {
		if strings.Contains(in, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(in)
		require.NotNil(t, id, in)
		require.Contains(t, en, `<label for="`+id[1]+`">`, in)
	}
}

func testLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
