package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// goInternals is what a Go decoder's or wrapped error's message shows:
// package-qualified names, Go types, the decoder's own words.
var goInternals = regexp.MustCompile(`\b(json|reflect|routers|httpapi|main|http)\.|json: |Go (struct|value)|\bstruct\b|\bint64\b|\bfloat64\b|\bbool\b|map\[|interface \{|statusBody|unmarshal`)

// TestErrorsLeakNothing: hostile requests get problem+json that names
// the field in the contract's words, and holds no Go identifier, no
// decoder message, no internal error and none of what was sent in the
// path or the values.
func TestErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	const marker = "MARKER<script>"
	long := `{"appeal_number":"AZ-BIL-2026-000017","note":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name, path, auth, body string
		reporterErr            error
		wantCode               int
		wantField              string
	}{
		{name: "number as a number", path: bilPath, auth: bilAuth, body: `{"appeal_number":17,"status":"closed"}`, wantCode: http.StatusBadRequest, wantField: "appeal_number"},
		{name: "note as an object", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","note":{"` + marker + `":1}}`, wantCode: http.StatusBadRequest, wantField: "note"},
		{name: "extend as text", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","extend":"` + marker + `"}`, wantCode: http.StatusBadRequest, wantField: "extend"},
		{name: "hostile key", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","` + marker + `":1}`, wantCode: http.StatusBadRequest},
		{name: "repeated hostile key", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"closed","status":"` + marker + `"}`, wantCode: http.StatusBadRequest, wantField: "status"},
		{name: "not JSON", path: bilPath, auth: bilAuth, body: marker, wantCode: http.StatusBadRequest},
		{name: "cut short", path: bilPath, auth: bilAuth, body: `{"appeal_number":"` + marker, wantCode: http.StatusBadRequest},
		{name: "over the limit", path: bilPath, auth: bilAuth, body: long, wantCode: http.StatusBadRequest},
		{name: "a status the hub refuses", path: bilPath, auth: bilAuth, body: `{"appeal_number":"AZ-BIL-2026-000017","status":"` + marker + `"}`,
			reporterErr: fmt.Errorf("apply report: %w: %q", routers.ErrBadStatus, marker), wantCode: http.StatusUnprocessableEntity, wantField: "status"},
		{name: "hostile district in the path", path: "/v1/districts/AZ-" + marker + "/status", auth: bilAuth, body: report, wantCode: http.StatusUnauthorized},
		{name: "unknown district in the path", path: "/v1/districts/AZ-ZZZ-MARKER/status", auth: "Bearer guess", body: report, wantCode: http.StatusUnauthorized},
		{name: "the ledger fails", path: bilPath, auth: bilAuth, body: report,
			reporterErr: fmt.Errorf("postgres: pgx.Conn %s: %w", marker, routers.ErrNotDelivered), wantCode: http.StatusConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(newAPI(t, &fakeReporter{err: tc.reporterErr}, nil), http.MethodPost, strings.ReplaceAll(tc.path, "<", "%3C"), tc.auth, tc.body)
			p := machineProblemOf(t, rec, tc.wantCode)
			require.Equal(t, tc.wantField, p.Field)
			body := rec.Body.String()
			require.NotRegexp(t, goInternals, body)
			require.NotContains(t, body, "MARKER")
			require.NotContains(t, body, "script")
			require.NotContains(t, body, "pgx")
		})
	}
}

// TestForeignAppealIsNotFound: a district asking of another's appeal gets
// the very answer it gets for a number that does not exist.
func TestForeignAppealIsNotFound(t *testing.T) {
	t.Parallel()
	foreign := serve(newAPI(t, &fakeReporter{err: fmt.Errorf("apply: %w", routers.ErrForeignAppeal)}, nil), http.MethodPost, bilPath, bilAuth, report)
	unknown := serve(newAPI(t, &fakeReporter{err: fmt.Errorf("appeal %q: %w", "AZ-BIL-2026-000017", routers.ErrNotFound)}, nil), http.MethodPost, bilPath, bilAuth, report)
	require.Equal(t, http.StatusNotFound, foreign.Code)
	require.Equal(t, unknown.Code, foreign.Code)
	require.Equal(t, unknown.Header(), foreign.Header())
	require.Equal(t, unknown.Body.String(), foreign.Body.String())
	require.NotContains(t, foreign.Body.String(), "AZ-BIL-2026-000017", "the number is not echoed either")
}
