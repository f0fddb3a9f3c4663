package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/routers"
)

const token = "s3cret-token"

// setup starts a district stub answering with h and returns a client of it.
func setup(t *testing.T, h http.HandlerFunc, timeout time.Duration) *rest.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: srv.URL + "/", Token: token, Timeout: timeout}, nil, nil)
	require.NoError(t, err)
	return c
}

func submission() routers.Submission {
	return routers.Submission{
		AppealNumber: "AZ-SAT-2026-000017",
		Service:      "reception-booking",
		Deadline:     "2026-12-18",
		RegisteredAt: time.Date(2026, 11, 27, 6, 15, 5, 0, time.UTC),
		Request: routers.Request{
			Kind:        "request",
			ID:          "2f8d6a4e-6c1b-4f5e-9a57-0d3c8e1b7a21",
			SubmittedAt: "2026-11-27T10:15:04+04:00",
			District:    "AZ-SAT",
			Service:     "reception-booking",
			Citizen:     routers.Citizen{FIN: "5ZJ7K2M", Phone: "+994501234567", Address: "Saatlı, Nizami 14"},
			Appeal:      routers.AppealForm{Type: "complaint", SocialStatus: "employed", Text: "Su yoxdur."},
			Reception:   &routers.Reception{OfficialID: "SAT-01", Date: "2026-12-01"},
			Form:        map[string]any{"rooms": float64(3)},
			Attachments: []routers.Attachment{{Name: "a.jpg", ContentType: "image/jpeg", Size: 10, SHA256: "ab", URL: "https://files/1"}},
		},
		Person: json.RawMessage(`{"fin":"5ZJ7K2M","surname":"Məmmədov","id_card":{"series":"AA","number":"1234567"}}`),
	}
}

func TestSubmitSendsHeadersAndBody(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path string
		header       http.Header
		body         []byte
	}
	got := make(chan seen, 1)
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Clone(), b}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"SAT-2026-000123"}`)
	}, 0)

	s := submission()
	ref, err := c.Submit(t.Context(), s)
	require.NoError(t, err)
	require.Equal(t, "SAT-2026-000123", ref)

	r := <-got
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/appeals", r.path)
	require.Equal(t, "Bearer "+token, r.header.Get("Authorization"))
	require.Equal(t, s.AppealNumber, r.header.Get("Idempotency-Key"))
	require.Equal(t, "application/json", r.header.Get("Content-Type"))

	var body rest.AppealBody
	require.NoError(t, json.Unmarshal(r.body, &body))
	require.Equal(t, rest.AppealBody{
		AppealNumber: s.AppealNumber,
		Service:      s.Service,
		Deadline:     s.Deadline,
		RegisteredAt: "2026-11-27T10:15:05+04:00", // Baku time
		RequestID:    s.Request.ID,
		SubmittedAt:  s.Request.SubmittedAt,
		Citizen:      s.Request.Citizen,
		Appeal:       s.Request.Appeal,
		Reception:    s.Request.Reception,
		Form:         s.Request.Form,
		Attachments:  s.Request.Attachments,
		Person:       body.Person,
	}, body)
	require.JSONEq(t, string(s.Person), string(body.Person))

	// The wire names are snake_case.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &raw))
	for _, k := range []string{"appeal_number", "service", "deadline", "registered_at", "request_id", "submitted_at", "citizen", "appeal", "reception", "form", "attachments", "person"} {
		require.Contains(t, raw, k)
	}
}

func TestSubmitStatuses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ə", 600) // 1200 bytes, two per rune
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantRef    string
		transient  bool
		retryAfter time.Duration
		is         error  // errors.Is target, if any
		contains   string // in the error message
	}{
		{name: "Created", status: 201, body: `{"reference":"R-1"}`, wantRef: "R-1"},
		{name: "RepeatedKey", status: 200, body: `{"reference":"R-1"}`, wantRef: "R-1"},
		{name: "CreatedWithoutReference", status: 201, body: `{}`, transient: true, contains: "without a reference"},
		{name: "CreatedEmptyReference", status: 201, body: `{"reference":"  "}`, transient: true, contains: "without a reference"},
		{name: "CreatedGarbage", status: 201, body: `<html>`, transient: true, contains: "unreadable"},
		{name: "ReferenceAtTheCap", status: 201, body: `{"reference":"` + strings.Repeat("ə", 100) + `"}`, wantRef: strings.Repeat("ə", 100)},
		{name: "ReferenceTooLong", status: 201, body: `{"reference":"` + strings.Repeat("ə", 101) + `"}`, contains: "reference: 101 characters, more than 100"},
		{name: "ReferenceWithNUL", status: 201, body: `{"reference":"R-\u00001"}`, contains: "U+0000"},
		{name: "ReferenceWithDEL", status: 200, body: `{"reference":"R-\u007f1"}`, contains: "U+007F"},
		{name: "ReferenceWithParagraphSeparator", status: 201, body: `{"reference":"R-\u20291"}`, contains: "U+2029"},
		{name: "BadRequest", status: 400, body: `{"error":"deadline missing"}`, contains: "deadline missing"},
		{name: "Unprocessable", status: 422, body: `{"error":"person missing"}`, contains: "person missing"},
		{name: "Unauthorized", status: 401, is: rest.ErrCredentials},
		{name: "Forbidden", status: 403, is: rest.ErrCredentials},
		{name: "NotFound", status: 404, is: routers.ErrNotFound},
		{name: "Conflict", status: 409, body: "conflict", contains: "conflict"},
		{name: "RequestTimeout", status: 408, transient: true},
		{name: "TooManyRequestsSeconds", status: 429, header: map[string]string{"Retry-After": "7"}, transient: true, retryAfter: 7 * time.Second},
		{name: "UnavailableDate", status: 503, header: map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, transient: true, retryAfter: 10 * time.Minute},
		{name: "InternalError", status: 500, body: "boom", transient: true, contains: "boom"},
		{name: "BadGateway", status: 502, transient: true},
		{name: "LongMessageCut", status: 422, body: long, contains: strings.Repeat("ə", 250)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c := setup(t, func(w http.ResponseWriter, _ *http.Request) {
				calls.Add(1)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, 0)

			ref, err := c.Submit(t.Context(), submission())
			require.EqualValues(t, 1, calls.Load(), "the client must not retry by itself")
			if tt.wantRef != "" {
				require.NoError(t, err)
				require.Equal(t, tt.wantRef, ref)
				return
			}
			require.Error(t, err)
			require.Empty(t, ref)
			var te *routers.TransientError
			if tt.transient {
				require.ErrorAs(t, err, &te)
				require.False(t, routers.IsPermanent(err))
				if tt.retryAfter > 0 {
					require.InDelta(t, tt.retryAfter, te.RetryAfter, float64(2*time.Second))
				}
			} else {
				require.True(t, routers.IsPermanent(err), "got %v", err)
				require.False(t, errors.As(err, &te))
			}
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Contains(t, err.Error(), tt.contains)
			require.NotContains(t, err.Error(), token)
			if tt.body == long {
				require.NotContains(t, err.Error(), strings.Repeat("ə", 251))
			}
		})
	}
}

func TestSubmitBodyLimit(t *testing.T) {
	t.Parallel()
	// Valid JSON with a reference, but over 1 MiB: the client must not read it all.
	c := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"R-1"}`+strings.Repeat(" ", 1<<20))
	}, 0)
	_, err := c.Submit(t.Context(), submission())
	var te *routers.TransientError
	require.ErrorAs(t, err, &te)
	require.Contains(t, err.Error(), "over")
}

func TestSubmitUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) (*rest.Client, context.Context)
		is    error
	}{
		{
			name: "Timeout",
			setup: func(t *testing.T) (*rest.Client, context.Context) {
				return setup(t, hang, 50*time.Millisecond), t.Context()
			},
			is: context.DeadlineExceeded,
		},
		{
			name: "Canceled",
			setup: func(t *testing.T) (*rest.Client, context.Context) {
				ctx, cancel := context.WithCancel(t.Context())
				return setup(t, func(w http.ResponseWriter, r *http.Request) {
					cancel() // the caller gives up while the district is working
					hang(w, r)
				}, 0), ctx
			},
			is: context.Canceled,
		},
		{
			name: "ConnectionRefused",
			setup: func(t *testing.T) (*rest.Client, context.Context) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				addr := l.Addr().String()
				require.NoError(t, l.Close())
				c, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: "http://" + addr, Token: token}, nil, nil)
				require.NoError(t, err)
				return c, t.Context()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ctx := tt.setup(t)
			_, err := c.Submit(ctx, submission())
			var te *routers.TransientError
			require.ErrorAs(t, err, &te)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

// hang answers only when the client goes away. The server notices that only
// once the request body is read.
func hang(_ http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func TestSubmitReusesConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"R-1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: srv.URL, Token: token}, nil, nil)
	require.NoError(t, err)
	for range 5 {
		_, err := c.Submit(t.Context(), submission())
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, conns.Load())
}

func TestComment(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 8, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name      string
		status    int
		ok        bool
		transient bool
		is        error
	}{
		{name: "OK", status: 200, ok: true},
		{name: "Created", status: 201, ok: true},
		{name: "NoContent", status: 204, ok: true},
		{name: "UnknownAppeal", status: 404, is: routers.ErrNotFound},
		{name: "Unprocessable", status: 422},
		{name: "Forbidden", status: 403, is: rest.ErrCredentials},
		{name: "TooManyRequests", status: 429, transient: true},
		{name: "Unavailable", status: 503, transient: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type seen struct {
				path   string
				header http.Header
				body   []byte
			}
			got := make(chan seen, 1)
			c := setup(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- seen{r.URL.Path, r.Header.Clone(), b}
				w.WriteHeader(tt.status)
			}, 0)

			err := c.Comment(t.Context(), routers.CommentSubmission{
				ID: "0e5f3c2b-9a8d-4e7f-b6a5-4c3d2e1f0a99", AppealNumber: "AZ-SAT-2026-000017", Reference: "SAT-2026-000123", Text: "Hələ cavab yoxdur", At: at,
			})
			r := <-got
			require.Equal(t, "/appeals/AZ-SAT-2026-000017/comments", r.path)
			require.Equal(t, "Bearer "+token, r.header.Get("Authorization"))
			require.Equal(t, "0e5f3c2b-9a8d-4e7f-b6a5-4c3d2e1f0a99", r.header.Get("Idempotency-Key"))
			require.JSONEq(t, `{"text":"Hələ cavab yoxdur","at":"2026-11-28T12:00:00+04:00"}`, string(r.body))

			switch {
			case tt.ok:
				require.NoError(t, err)
			case tt.transient:
				var te *routers.TransientError
				require.ErrorAs(t, err, &te)
			default:
				require.True(t, routers.IsPermanent(err), "got %v", err)
			}
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := rest.Config{Code: "AZ-SAT", Endpoint: "https://sat.example.az/api", Token: "t"}
	tests := []struct {
		name   string
		modify func(*rest.Config)
		want   string
	}{
		{name: "Valid", modify: func(*rest.Config) {}},
		{name: "NoCode", modify: func(c *rest.Config) { c.Code = "" }, want: "code"},
		{name: "NoEndpoint", modify: func(c *rest.Config) { c.Endpoint = "" }, want: "endpoint"},
		{name: "RelativeEndpoint", modify: func(c *rest.Config) { c.Endpoint = "/api" }, want: "endpoint"},
		{name: "FTPEndpoint", modify: func(c *rest.Config) { c.Endpoint = "ftp://sat.example.az" }, want: "endpoint"},
		{name: "NoToken", modify: func(c *rest.Config) { c.Token = "" }, want: "token"},
		{name: "NegativeTimeout", modify: func(c *rest.Config) { c.Timeout = -time.Second }, want: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.modify(&cfg)
			_, err := rest.New(cfg, nil, nil)
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, cfg.Validate())
				return
			}
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, cfg.Validate(), tt.want)
		})
	}
}

// TestRetryAfterDateOnTheHubsClock: a Retry-After given as a date is read
// against the hub's clock, not the machine's.
func TestRetryAfterDateOnTheHubsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 6, 13, 7, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: srv.URL + "/", Token: token, Now: func() time.Time { return now }}, nil, nil)
	require.NoError(t, err)
	_, err = c.Submit(t.Context(), submission())
	var te *routers.TransientError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 90*time.Second, te.RetryAfter)
}

// TestSetToken: a new token (a reload) goes with the next call.
func TestSetToken(t *testing.T) {
	t.Parallel()
	got := make(chan string, 2)
	c := setup(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"SAT-2026-000123"}`)
	}, 0)
	_, err := c.Submit(t.Context(), submission())
	require.NoError(t, err)
	c.SetToken("the-district-token-after-the-reload")
	_, err = c.Submit(t.Context(), submission())
	require.NoError(t, err)
	require.Equal(t, "Bearer "+token, <-got)
	require.Equal(t, "Bearer the-district-token-after-the-reload", <-got)
}
