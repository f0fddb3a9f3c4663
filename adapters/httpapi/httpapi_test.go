package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/routers"
)

// fakeReporter records the reports it gets and answers with err.
type fakeReporter struct {
	mu      sync.Mutex
	err     error
	reports []routers.StatusReport
}

func (f *fakeReporter) ReportStatus(_ context.Context, r routers.StatusReport) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, r)
	return f.err
}

func (f *fakeReporter) received() []routers.StatusReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]routers.StatusReport(nil), f.reports...)
}

// testAccess is every party the tests call as, by token.
func testAccess() *access.Tokens {
	return access.NewTokens(access.NewTable(map[string]access.Party{
		"bil-secret":      {Name: "AZ-BIL", Role: access.RoleDistrict},
		"sat-secret":      {Name: "AZ-SAT", Role: access.RoleDistrict},
		"portal-secret":   {Name: "portal", Role: access.RolePortal},
		"monitor-secret":  {Name: "central-monitors", Role: access.RoleMonitor},
		"operator-secret": {Name: "duty-operator", Role: access.RoleOperator},
	}))
}

func newAPI(t *testing.T, reporter httpapi.StatusReporter, gatherer prometheus.Gatherer, ready ...httpapi.Check) http.Handler {
	t.Helper()
	if gatherer == nil {
		gatherer = prometheus.NewRegistry()
	}
	return openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access: testAccess(), Reporter: reporter, Gatherer: gatherer, Ready: ready,
		Logger: slog.New(slog.DiscardHandler),
	}))
}

func serve(h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json") // as districts send it (the document's media type)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

const (
	bilPath = "/v1/districts/AZ-BIL/status"
	bilAuth = "Bearer bil-secret"
	report  = `{"appeal_number":"AZ-BIL-2026-000017","status":"in_progress","note":"baxılır","at":"2026-12-02T09:30:00+04:00"}`
	// Contract §4 v1.1's fields.
	extension  = `{"appeal_number":"AZ-BIL-2026-000017","status":"in_progress","extend":true,"reason":"Əlavə yoxlama lazımdır"}`
	forwarding = `{"appeal_number":"AZ-BIL-2026-000017","status":"forwarded","forwarded_to":"AZ-SAT"}`
)

func TestStatusCallback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		path         string
		auth         string
		body         string
		reporterErr  error
		wantCode     int
		wantError    string // substring of the answer's "error"
		wantReported bool
		wantRetry    string // the Retry-After header, if any
		wantField    string // the problem's field, if any
	}{
		{name: "no token", path: bilPath, body: report, wantCode: http.StatusUnauthorized},
		{name: "wrong token", path: bilPath, auth: "Bearer guess", body: report, wantCode: http.StatusUnauthorized},
		{name: "token without Bearer", path: bilPath, auth: "bil-secret", body: report, wantCode: http.StatusUnauthorized},
		{name: "empty bearer", path: bilPath, auth: "Bearer ", body: report, wantCode: http.StatusUnauthorized},
		{name: "another district's token", path: bilPath, auth: "Bearer sat-secret", body: report, wantCode: http.StatusUnauthorized},
		{name: "unknown district", path: "/v1/districts/AZ-XXX/status", auth: bilAuth, body: report, wantCode: http.StatusUnauthorized},
		{name: "malformed JSON", path: bilPath, auth: bilAuth, body: `{"appeal_number":`, wantCode: http.StatusBadRequest, wantError: "malformed"},
		{name: "trailing value", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000001","status":"answered"} {}`, wantCode: http.StatusBadRequest, wantError: "more than one value"},
		{name: "unknown field", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"closed","state":"x"}`, wantCode: http.StatusBadRequest, wantError: "no field state", wantField: "state"},
		{name: "key in another case", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","Status":"closed"}`, wantCode: http.StatusBadRequest, wantField: "Status"},
		{name: "duplicate key", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"closed","status":"answered"}`, wantCode: http.StatusBadRequest, wantError: "more than once", wantField: "status"},
		{name: "not an object", path: bilPath, auth: bilAuth, body: `["AZ-BIL-2026-000017"]`, wantCode: http.StatusBadRequest, wantError: "not a JSON object"},
		{name: "at without offset", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"closed","at":"2026-12-02T09:30:00"}`, wantCode: http.StatusUnprocessableEntity, wantError: "at", wantField: "at"},
		{name: "no appeal_number", path: bilPath, auth: bilAuth, body: `{"status":"closed"}`, wantCode: http.StatusUnprocessableEntity, wantError: "appeal_number", wantField: "appeal_number"},
		{name: "bad status", path: bilPath, auth: bilAuth, body: report, reporterErr: fmt.Errorf("%w: %q", routers.ErrBadStatus, "done"), wantCode: http.StatusUnprocessableEntity, wantField: "status", wantReported: true},
		{name: "unknown appeal", path: bilPath, auth: bilAuth, body: report, reporterErr: fmt.Errorf("appeal: %w", routers.ErrNotFound), wantCode: http.StatusNotFound, wantReported: true},
		{name: "foreign appeal", path: bilPath, auth: bilAuth, body: report, reporterErr: routers.ErrForeignAppeal, wantCode: http.StatusNotFound, wantReported: true},
		{name: "backward step", path: bilPath, auth: bilAuth, body: report, reporterErr: fmt.Errorf("%w: answered → in_progress", routers.ErrBackwardStep), wantCode: http.StatusConflict, wantReported: true},
		{name: "second extension", path: bilPath, auth: bilAuth, body: extension, reporterErr: fmt.Errorf("%w, on 2026-12-01T10:00:00+04:00", routers.ErrAlreadyExtended), wantCode: http.StatusConflict, wantError: "already extended", wantReported: true},
		{name: "forwarded elsewhere already", path: bilPath, auth: bilAuth, body: forwarding, reporterErr: fmt.Errorf("apply: %w: it was forwarded to %q already", routers.ErrForwardConflict, "AZ-SAT"), wantCode: http.StatusConflict, wantError: "cannot be forwarded there: it was forwarded to", wantReported: true},
		{name: "extend is a boolean", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"in_progress","extend":"yes"}`, wantCode: http.StatusBadRequest, wantError: "extend must be true or false", wantField: "extend"},
		{name: "the ledger refuses the report", path: bilPath, auth: bilAuth, body: report, reporterErr: &routers.PermanentError{Err: fmt.Errorf("note: %w", routers.ErrDataRefused)}, wantCode: http.StatusUnprocessableEntity, wantError: "cannot be stored", wantReported: true},
		{name: "appeal not delivered yet", path: bilPath, auth: bilAuth, body: report, reporterErr: fmt.Errorf("%w: AZ-BIL-2026-000001", routers.ErrNotDelivered), wantCode: http.StatusConflict, wantError: "not been delivered", wantReported: true, wantRetry: "5"},
		{name: "hub failure", path: bilPath, auth: bilAuth, body: report, reporterErr: errors.New("database is down"), wantCode: http.StatusServiceUnavailable, wantReported: true},
		{name: "accepted", path: bilPath, auth: bilAuth, body: report, wantCode: http.StatusOK, wantReported: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reporter := &fakeReporter{err: tc.reporterErr}
			rec := serve(newAPI(t, reporter, nil), http.MethodPost, tc.path, tc.auth, tc.body)
			require.Equal(t, tc.wantCode, rec.Code, rec.Body.String())
			require.Equal(t, tc.wantRetry, rec.Header().Get("Retry-After"), "not yet (with Retry-After) or never")
			if tc.wantCode == http.StatusOK {
				require.Equal(t, "accepted", decode(t, rec)["result"])
			} else {
				p := machineProblemOf(t, rec, tc.wantCode)
				require.Contains(t, p.Detail, tc.wantError)
				require.Equal(t, tc.wantField, p.Field)
				require.NotContains(t, p.Detail, "database", "an internal error leaked to the district")
			}
			if !tc.wantReported {
				require.Empty(t, reporter.received(), "the hub was asked despite a refused call")
			}
		})
	}
}

func TestStatusCallbackPassesTheReportThrough(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path string
		auth string
		body string
		want routers.StatusReport
	}{
		{
			name: "district from the path, at parsed", path: bilPath, auth: bilAuth, body: report,
			want: routers.StatusReport{District: "AZ-BIL", AppealNumber: "AZ-BIL-2026-000017", Status: routers.StatusInProgress,
				Note: "baxılır", At: time.Date(2026, 12, 2, 9, 30, 0, 0, routers.Baku)},
		},
		{
			name: "no at", path: "/v1/districts/AZ-SAT/status", auth: "Bearer sat-secret",
			body: `{"appeal_number":"AZ-SAT-2026-000003","status":"closed"}`,
			want: routers.StatusReport{District: "AZ-SAT", AppealNumber: "AZ-SAT-2026-000003", Status: routers.StatusClosed},
		},
		{
			name: "an extension (v1.1)", path: bilPath, auth: bilAuth, body: extension,
			want: routers.StatusReport{District: "AZ-BIL", AppealNumber: "AZ-BIL-2026-000017", Status: routers.StatusInProgress,
				Extend: true, Reason: "Əlavə yoxlama lazımdır"},
		},
		{
			name: "a forwarding (v1.1)", path: bilPath, auth: bilAuth, body: forwarding,
			want: routers.StatusReport{District: "AZ-BIL", AppealNumber: "AZ-BIL-2026-000017", Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reporter := &fakeReporter{}
			rec := serve(newAPI(t, reporter, nil), http.MethodPost, tc.path, tc.auth, tc.body)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			got := reporter.received()
			require.Len(t, got, 1)
			require.True(t, tc.want.At.Equal(got[0].At), "at: want %v, got %v", tc.want.At, got[0].At)
			got[0].At, tc.want.At = time.Time{}, time.Time{}
			require.Equal(t, tc.want, got[0])
		})
	}
}

func TestStatusCallbackOnlyByPost(t *testing.T) {
	t.Parallel()
	reporter := &fakeReporter{}
	rec := serve(newAPI(t, reporter, nil), http.MethodGet, bilPath, bilAuth, "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Empty(t, reporter.received())
}

func TestProbes(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	cases := []struct {
		name     string
		path     string
		checks   []httpapi.Check
		wantCode int
		want     map[string]string
	}{
		{"healthz", "/healthz", []httpapi.Check{{Name: "postgres", Check: down}}, http.StatusOK, map[string]string{"status": "ok"}},
		{"ready", "/readyz", []httpapi.Check{{Name: "postgres", Check: ok}, {Name: "rabbitmq", Check: ok}}, http.StatusOK,
			map[string]string{"postgres": "ok", "rabbitmq": "ok"}},
		{"not ready", "/readyz", []httpapi.Check{{Name: "postgres", Check: ok}, {Name: "rabbitmq", Check: down}}, http.StatusServiceUnavailable,
			map[string]string{"postgres": "ok", "rabbitmq": "failing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(newAPI(t, &fakeReporter{}, nil, tc.checks...), http.MethodGet, tc.path, "", "")
			require.Equal(t, tc.wantCode, rec.Code)
			require.Equal(t, tc.want, decode(t, rec))
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics := routers.NewMetrics(reg)
	metrics.Received.WithLabelValues("AZ-BIL").Add(3)
	rec := serve(newAPI(t, &fakeReporter{}, reg), http.MethodGet, "/metrics", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), `korpu_appeals_received_total{district="AZ-BIL"} 3`)
}

// TestStatusCallbackRefusedField: a report the hub refuses for one field
// (district input out of bounds) is 422 and names the field.
func TestStatusCallbackRefusedField(t *testing.T) {
	t.Parallel()
	refusal := fmt.Errorf("apply: %w", errors.Join(&routers.DistrictInputError{Field: "note", Reason: "holds the control character U+0000 at character 6"}))
	rec := serve(newAPI(t, &fakeReporter{err: refusal}, nil), http.MethodPost, bilPath, bilAuth, report)
	p := machineProblemOf(t, rec, http.StatusUnprocessableEntity)
	require.Equal(t, "note", p.Field)
	require.Contains(t, p.Detail, "note: holds the control character U+0000")
}
