package esd_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/routers"
)

// answer serves a fixed answer.
func answer(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
	require.NoError(t, err)
	return string(b)
}

func submission() routers.Submission { return goldenSubmissions()["submit-appeal"] }

type outcome int

const (
	ok outcome = iota
	transient
	permanent
)

func requireOutcome(t *testing.T, want outcome, err error) {
	t.Helper()
	var te *routers.TransientError
	switch want {
	case ok:
		require.NoError(t, err)
	case transient:
		require.True(t, errors.As(err, &te), "want transient, got %v", err)
	case permanent:
		require.True(t, routers.IsPermanent(err), "want permanent, got %v", err)
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	submit := func(c *esd.Client) (any, error) { return c.Submit(context.Background(), submission()) }
	state := func(c *esd.Client) (any, error) { return c.State(context.Background(), "BIL-2026/000123") }
	comment := func(c *esd.Client) (any, error) {
		return nil, c.Comment(context.Background(), routers.CommentSubmission{ID: "c", Reference: "BIL-2026/999999", Text: "x", At: time.Now()})
	}
	tests := []struct {
		name    string
		call    func(*esd.Client) (any, error)
		status  int
		body    string // a golden file name, or the body itself
		want    outcome
		value   any
		is      error  // the error must wrap this
		message string // the error must quote this
	}{
		{name: "Registered", call: submit, status: 200, body: "register.xml", value: "BIL-2026/000123"},
		{name: "TekrarIsSuccess", call: submit, status: 500, body: "fault-TEKRAR.xml", value: "BIL-2026/000123"},
		{name: "Busy", call: submit, status: 500, body: "fault-SISTEM_MESGUL.xml", want: transient},
		{name: "InvalidData", call: submit, status: 500, body: "fault-MELUMAT_SEHVDIR.xml", want: permanent, message: "DogumTarixi sahəsi düzgün deyil"},
		{name: "Credentials", call: submit, status: 500, body: "fault-ICAZE_YOXDUR.xml", want: permanent, is: esd.ErrCredentials},
		{name: "CommentNotFound", call: comment, status: 500, body: "fault-TAPILMADI.xml", want: permanent, is: routers.ErrNotFound},
		{name: "StateNotFound", call: state, status: 500, body: "fault-TAPILMADI.xml", want: permanent, is: routers.ErrNotFound},
		{name: "CommentAccepted", call: comment, status: 200, body: "comment.xml"},
		{name: "CommentRefused", call: comment, status: 200, body: strings.Replace(golden(t, "comment.xml"), "true", "false", 1), want: permanent},
		{name: "PlainServerFault", call: submit, status: 500, body: "fault-plain.xml", want: transient, message: "NullPointerException"},
		{name: "PlainClientFault", call: submit, status: 500, body: strings.Replace(golden(t, "fault-plain.xml"), "S:Server", "S:Client", 1), want: permanent},
		{name: "State", call: state, status: 200, body: "state.xml", value: esd.StateResult{
			ESDNumber: "BIL-2026/000123", Veziyyet: 5, Status: routers.StatusForwarded,
			Note: "Müraciət aidiyyəti üzrə Əmək və Əhalinin Sosial Müdafiəsi Nazirliyinə göndərildi", Executor: "Həsənova A. T.",
			At: time.Date(2026, 12, 2, 12, 40, 0, 0, time.UTC),
		}},
		{name: "StateOutOfRange", call: state, status: 200, body: strings.Replace(golden(t, "state.xml"), "<Veziyyet>5", "<Veziyyet>7", 1), want: transient},
		{name: "NotSOAP", call: submit, status: 200, body: "<html><body>Welcome</body></html>", want: transient, message: "not a SOAP 1.1 envelope"},
		{name: "NotXML", call: submit, status: 200, body: "OK", want: transient, message: "not a SOAP"},
		{name: "Unclosed", call: submit, status: 200, body: `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>`, want: transient, message: "not well-formed"},
		{name: "EmptyBody", call: submit, status: 200, body: "", want: transient},
		{name: "NoNumber", call: submit, status: 200, body: strings.Replace(golden(t, "register.xml"), "BIL-2026/000123", "", 1), want: transient},
		{name: "NumberAtTheCap", call: submit, status: 200, body: strings.Replace(golden(t, "register.xml"), "BIL-2026/000123", strings.Repeat("ə", 100), 1), value: strings.Repeat("ə", 100)},
		{name: "NumberTooLong", call: submit, status: 200, body: strings.Replace(golden(t, "register.xml"), "BIL-2026/000123", strings.Repeat("ə", 101), 1), want: permanent, message: "reference: 101 characters, more than 100"},
		{name: "NumberWithDEL", call: submit, status: 200, body: strings.Replace(golden(t, "register.xml"), "BIL-2026/000123", "BIL-2026/&#127;1", 1), want: permanent, message: "U+007F"},
		{name: "NumberWithLineSeparator", call: submit, status: 200, body: strings.Replace(golden(t, "register.xml"), "BIL-2026/000123", "BIL-2026/ 1", 1), want: permanent, message: "U+2028"},
		{name: "TekrarNumberTooLong", call: submit, status: 500, body: strings.Replace(golden(t, "fault-TEKRAR.xml"), "BIL-2026/000123", strings.Repeat("9", 101), 1), want: permanent, message: "MovcudNomre"},
		{name: "WrongAnswer", call: submit, status: 200, body: "comment.xml", want: transient},
		{name: "GatewayDown", call: submit, status: 502, body: "Bad Gateway", want: transient},
		{name: "HTTP401", call: submit, status: 401, body: "", want: permanent, is: esd.ErrCredentials},
		{name: "HTTP404", call: submit, status: 404, body: "no such path", want: permanent},
		{name: "DTD", call: submit, status: 200, want: transient, message: "DTD",
			body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>&e;</S:Body></S:Envelope>`},
		{name: "LowercaseDTD", call: submit, status: 200, want: transient, message: "DTD",
			body: `<!doctype x><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if strings.HasSuffix(body, ".xml") {
				body = golden(t, body)
			}
			got, err := tt.call(newClient(t, answer(tt.status, body, "Content-Type", "text/xml")))
			requireOutcome(t, tt.want, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			if tt.message != "" {
				require.ErrorContains(t, err, tt.message)
			}
			if tt.value != nil {
				if st, isState := got.(esd.StateResult); isState {
					want := tt.value.(esd.StateResult)
					require.True(t, want.At.Equal(st.At), "%v != %v", want.At, st.At)
					st.At = want.At
					got = st
				}
				require.Equal(t, tt.value, got)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	c := newClient(t, answer(200, golden(t, "changes.xml")))
	page, err := c.Changes(t.Context(), since, 2)
	require.NoError(t, err)
	require.True(t, page.More)
	require.Len(t, page.Changes, 2)
	require.Equal(t, "AZ-BIL-2026-000017", page.Changes[0].AppealNumber)
	require.Equal(t, "BIL-2026/000123", page.Changes[0].ESDNumber)
	require.Equal(t, routers.StatusInProgress, page.Changes[0].Status)
	require.Equal(t, "İcraya götürüldü", page.Changes[0].Note)
	require.Equal(t, routers.StatusClosed, page.Changes[1].Status)
	require.True(t, page.Next.Equal(time.Date(2026, 11, 28, 5, 0, 0, 500_000_000, time.UTC)), page.Next)

	empty, err := newClient(t, answer(200, golden(t, "changes-empty.xml"))).Changes(t.Context(), since, 2)
	require.NoError(t, err)
	require.False(t, empty.More)
	require.Empty(t, empty.Changes)
	require.True(t, empty.Next.Equal(since))

	_, err = c.Changes(t.Context(), since, 0)
	require.True(t, routers.IsPermanent(err))
}

func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*routers.Submission){
		"UnknownAppealType": func(s *routers.Submission) { s.Request.Appeal.Type = "petition" },
		"UnknownSocial":     func(s *routers.Submission) { s.Request.Appeal.SocialStatus = "retired" },
		"UnknownPrivilege":  func(s *routers.Submission) { s.Request.Appeal.PrivilegeStatus = "hero" },
		"NoPerson":          func(s *routers.Submission) { s.Person = nil },
		"PersonWithoutName": func(s *routers.Submission) { s.Person = []byte(`{"fin":"5ZJ7K2M","surname":"X"}`) },
		"NoPhone":           func(s *routers.Submission) { s.Request.Citizen.Phone = "" },
		"BadDeadline":       func(s *routers.Submission) { s.Deadline = "18.12.2026" },
		"NoNumber":          func(s *routers.Submission) { s.AppealNumber = "" },
		"ReceptionMissing":  func(s *routers.Submission) { s.Service = "reception-booking" },
	}
	for name, modify := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			c := newClient(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
			s := submission()
			modify(&s)
			_, err := c.Submit(t.Context(), s)
			require.True(t, routers.IsPermanent(err), "%v", err)
			require.Zero(t, calls.Load())
		})
	}
}

func TestHardening(t *testing.T) {
	t.Parallel()

	t.Run("ResponseTooLarge", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(answer(200, golden(t, "register.xml")+strings.Repeat(" ", 2000)))
		t.Cleanup(srv.Close)
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL, Username: "u", Password: "p", MaxResponseBytes: 1000}, nil, nil)
		require.NoError(t, err)
		_, err = c.Submit(t.Context(), submission())
		requireOutcome(t, transient, err)
		require.ErrorContains(t, err, "more than 1000 bytes")
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL, Username: "u", Password: "p", Timeout: 50 * time.Millisecond}, nil, nil)
		require.NoError(t, err)
		_, err = c.Submit(t.Context(), submission())
		requireOutcome(t, transient, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: url, Username: "u", Password: "p"}, nil, nil)
		require.NoError(t, err)
		_, err = c.Submit(t.Context(), submission())
		requireOutcome(t, transient, err)
	})

	t.Run("ConcurrencyLimit", func(t *testing.T) {
		t.Parallel()
		var inFlight, peak atomic.Int32
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			_, _ = w.Write([]byte(golden(t, "register.xml")))
		}))
		t.Cleanup(srv.Close)
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL, Username: "u", Password: "p", MaxConcurrent: 2}, nil, nil)
		require.NoError(t, err)
		errs := make(chan error, 6)
		for range 6 {
			go func() {
				_, err := c.Submit(t.Context(), submission())
				errs <- err
			}()
		}
		require.Eventually(t, func() bool { return inFlight.Load() == 2 }, 5*time.Second, time.Millisecond)
		close(release)
		for range 6 {
			require.NoError(t, <-errs)
		}
		require.Equal(t, int32(2), peak.Load())
	})

	t.Run("WaitForSlotHonoursContext", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL, Username: "u", Password: "p", MaxConcurrent: 1}, nil, nil)
		require.NoError(t, err)
		go func() { _, _ = c.State(t.Context(), "BIL-1") }() // holds the only slot
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err = c.State(ctx, "BIL-2")
		requireOutcome(t, transient, err)
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()
	_, err := esd.New(esd.Config{Endpoint: "ftp://x", MaxConcurrent: -1}, nil, nil)
	require.Error(t, err)
	for _, want := range []string{"code is empty", "not an http(s) URL", "username is empty", "password is empty", "max concurrent -1"} {
		require.ErrorContains(t, err, want)
	}
	cfg := esd.Config{Code: "AZ-BIL", Endpoint: "http://x", Username: "u", Password: "secret"}
	require.NotContains(t, cfg.LogValue().String(), "secret")
}

func TestCommentRedeliveryNotResent(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(golden(t, "comment.xml")))
	}))
	cs := routers.CommentSubmission{ID: "c-1", Reference: "BIL-2026/000123", Text: "x", At: time.Now()}
	require.NoError(t, c.Comment(t.Context(), cs))
	require.NoError(t, c.Comment(t.Context(), cs))
	require.Equal(t, int32(1), calls.Load())
	cs.Reference = ""
	require.True(t, routers.IsPermanent(c.Comment(t.Context(), cs)))
}

// TestRetryAfterDateOnTheHubsClock: the Retry-After of an ESD behind an
// overloaded proxy, given as a date, is read against the hub's clock, not
// the machine's.
func TestRetryAfterDateOnTheHubsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 6, 13, 7, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL, Username: "u", Password: "p", Now: func() time.Time { return now }}, nil, nil)
	require.NoError(t, err)
	_, err = c.Submit(t.Context(), submission())
	var te *routers.TransientError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 90*time.Second, te.RetryAfter)
}

// TestSetPassword: a new password (a reload) goes with the next call.
func TestSetPassword(t *testing.T) {
	t.Parallel()
	bodies := make(chan string, 2)
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		_, _ = w.Write([]byte(golden(t, "comment.xml")))
	}))
	require.NoError(t, c.Comment(t.Context(), routers.CommentSubmission{ID: "c-1", Reference: "BIL-2026/000123", Text: "x", At: time.Now()}))
	c.SetPassword("the-esd-password-after-the-reload")
	require.NoError(t, c.Comment(t.Context(), routers.CommentSubmission{ID: "c-2", Reference: "BIL-2026/000123", Text: "y", At: time.Now()}))
	require.Contains(t, <-bodies, ">"+password+"</")
	second := <-bodies
	require.Contains(t, second, ">the-esd-password-after-the-reload</")
	require.NotContains(t, second, ">"+password+"</")
}
