package openapitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
)

// TestDocumentIsValid: schemas/openapi.yaml is a valid OpenAPI 3.1 document.
func TestDocumentIsValid(t *testing.T) {
	t.Parallel()
	v := openapitest.Validator(t)
	ok, errs := v.ValidateDocument()
	for _, e := range errs {
		t.Errorf("%s: %s", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			t.Errorf("  %s at %s", s.Reason, s.FieldPath)
		}
	}
	require.True(t, ok)
}

// recordingT stands in for a test and keeps what would have failed it.
type recordingT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingT) Helper() {}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingT) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errors, "\n")
}

func jsonHandler(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// TestTheValidatorBites: answers and routes that differ from the document
// fail the test, through Wrap and through Transport alike; what matches
// passes.
func TestTheValidatorBites(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		method  string
		path    string
		auth    string
		body    string
		handler http.Handler
		want    string // a substring of the failure; empty: no failure
	}{
		{name: "as documented", method: http.MethodGet, path: "/healthz", handler: jsonHandler(http.StatusOK, `{"status":"ok"}`)},
		{name: "a field the schema lacks", method: http.MethodGet, path: "/healthz",
			handler: jsonHandler(http.StatusOK, `{"status":"ok","uptime":3}`), want: "uptime"},
		{name: "a wrong type", method: http.MethodGet, path: "/v1/dead-letters", auth: "Bearer m",
			handler: jsonHandler(http.StatusOK, `{"dead_letters":[{"id":"1","created_at":"2026-12-01T10:00:00+04:00","kind":"poison","queue":"q","size":1,"truncated":false,"error":"x","attempts":1,"state":"dead"}]}`),
			want:    "the answer is not as documented"},
		{name: "a body field the list must not carry", method: http.MethodGet, path: "/v1/dead-letters", auth: "Bearer m",
			handler: jsonHandler(http.StatusOK, `{"dead_letters":[{"id":1,"created_at":"2026-12-01T10:00:00+04:00","kind":"poison","queue":"q","size":1,"truncated":false,"error":"x","attempts":1,"state":"dead","body":"{}"}]}`),
			want:    "body"},
		{name: "a date that is not one", method: http.MethodGet, path: "/v1/dead-letters", auth: "Bearer m",
			handler: jsonHandler(http.StatusOK, `{"dead_letters":[{"id":1,"created_at":"yesterday","kind":"poison","queue":"q","size":1,"truncated":false,"error":"x","attempts":1,"state":"dead"}]}`),
			want:    "created_at"},
		{name: "an undocumented status code", method: http.MethodGet, path: "/healthz",
			handler: jsonHandler(http.StatusTeapot, `{"status":"ok"}`), want: "418"},
		{name: "an undocumented content type", method: http.MethodGet, path: "/healthz",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), want: "the answer is not as documented"},
		{name: "an undocumented route", method: http.MethodGet, path: "/v1/secrets",
			handler: jsonHandler(http.StatusOK, `{}`), want: "not in the document"},
		{name: "an undocumented method", method: http.MethodDelete, path: "/healthz",
			handler: jsonHandler(http.StatusOK, `{"status":"ok"}`), want: "not in the document"},
		{name: "an unserved route is no failure", method: http.MethodGet, path: "/v1/secrets", handler: http.NotFoundHandler()},
		{name: "a request the document refuses, accepted", method: http.MethodGet, path: "/v1/dead-letters?limit=5000", auth: "Bearer m",
			handler: jsonHandler(http.StatusOK, `{"dead_letters":[]}`), want: "the document refuses the request"},
		{name: "a request the document refuses, refused", method: http.MethodGet, path: "/v1/dead-letters?limit=5000", auth: "Bearer m",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"type":"urn:korpu:problem:bad-request","title":"Bad Request","status":400,"detail":"limit"}`)
			})},
		{name: "a request body the document refuses, accepted", method: http.MethodPost, path: "/v1/districts/AZ-BIL/status", auth: "Bearer d",
			body: `{"appeal_number":"AZ-BIL-2026-000001","status":"lost"}`, handler: jsonHandler(http.StatusOK, `{"result":"accepted"}`), want: "status"},
		{name: "a missing token, accepted", method: http.MethodGet, path: "/v1/dead-letters",
			handler: jsonHandler(http.StatusOK, `{"dead_letters":[]}`), want: "the document refuses the request"},
	}
	for _, tc := range cases {
		for _, via := range []string{"Wrap", "Transport"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				rt := &recordingT{TB: t}
				var do func(*http.Request) *http.Response
				if via == "Wrap" {
					h := openapitest.Wrap(rt, tc.handler)
					do = func(req *http.Request) *http.Response {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						return rec.Result()
					}
				} else {
					srv := httptest.NewServer(tc.handler)
					t.Cleanup(srv.Close)
					client := &http.Client{Transport: openapitest.Transport(rt, nil)}
					do = func(req *http.Request) *http.Response {
						req.URL.Scheme, req.URL.Host, req.RequestURI = "http", srv.Listener.Addr().String(), ""
						resp, err := client.Do(req)
						require.NoError(t, err)
						return resp
					}
				}
				req := httptest.NewRequestWithContext(t.Context(), tc.method, tc.path, strings.NewReader(tc.body))
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp := do(req)
				got, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				if tc.want == "" {
					require.Empty(t, rt.failures())
				} else {
					require.Contains(t, rt.failures(), tc.want)
				}
				require.NotEmpty(t, got, "the body reaches the caller unread")
			})
		}
	}
}
