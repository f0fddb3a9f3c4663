package restdistrict

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/routers"
)

const (
	districtToken = "district-token"
	callbackToken = "callback-token"
	waitFor       = 10 * time.Second
	tick          = 5 * time.Millisecond
)

// hubCall is one status callback attempt as the hub stub saw it.
type hubCall struct {
	path, auth string
	body       statusBody
}

// hubStub stands in for the hub's callback endpoint; answer picks the status
// code of each attempt (n counts attempts from 1).
type hubStub struct {
	mu     sync.Mutex
	calls  []hubCall
	answer func(n int, b statusBody) int
}

func (h *hubStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b statusBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.calls = append(h.calls, hubCall{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: b})
	n := len(h.calls)
	h.mu.Unlock()
	code := http.StatusNoContent
	if h.answer != nil {
		code = h.answer(n, b)
	}
	if code == http.StatusConflict {
		w.Header().Set("Retry-After", "1") // the hub's "not yet"
	}
	w.WriteHeader(code)
}

func (h *hubStub) Calls() []hubCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hubCall(nil), h.calls...)
}

// statuses lists the statuses the hub stub accepted or refused, in order.
func (h *hubStub) statuses() []string {
	var out []string
	for _, c := range h.Calls() {
		out = append(out, c.body.Status)
	}
	return out
}

type fixture struct {
	sim    *Sim
	hub    *hubStub
	client *rest.Client
}

// setup starts a hub stub, a simulator calling it back and a client of the
// simulator. modify may change the options before the simulator is built.
func setup(t *testing.T, hub *hubStub, modify func(*Options)) fixture {
	t.Helper()
	hubSrv := httptest.NewServer(hub)
	t.Cleanup(hubSrv.Close)
	opts := Options{
		Code:          "AZ-SAT",
		Token:         districtToken,
		CallbackURL:   hubSrv.URL + "/",
		CallbackToken: callbackToken,
		StepDelay:     time.Millisecond,
	}
	if modify != nil {
		modify(&opts)
	}
	sim := New(opts)
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	t.Cleanup(sim.Close) // runs first: stops callbacks before the hub goes
	client, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: simSrv.URL, Token: districtToken}, nil, nil)
	require.NoError(t, err)
	return fixture{sim: sim, hub: hub, client: client}
}

func submission(number string) routers.Submission {
	return routers.Submission{
		AppealNumber: number,
		Service:      "appeal",
		Deadline:     "2026-12-18",
		RegisteredAt: time.Date(2026, 11, 27, 6, 15, 5, 0, time.UTC),
		Request: routers.Request{
			ID:          "2f8d6a4e-6c1b-4f5e-9a57-0d3c8e1b7a21",
			SubmittedAt: "2026-11-27T10:15:04+04:00",
			Citizen:     routers.Citizen{FIN: "5ZJ7K2M"},
			Appeal:      routers.AppealForm{Type: "complaint", SocialStatus: "employed", Text: "Su yoxdur."},
		},
		Person: json.RawMessage(`{"fin":"5ZJ7K2M","surname":"Məmmədov"}`),
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	f := setup(t, &hubStub{}, nil)
	f.sim.Start(t.Context())
	const number = "AZ-SAT-2026-000017"

	ref, err := f.client.Submit(t.Context(), submission(number))
	require.NoError(t, err)
	require.Regexp(t, `^SAT-\d{4}-000001$`, ref)

	body, ok := f.sim.Appeal(number)
	require.True(t, ok)
	require.Equal(t, number, body.AppealNumber)
	require.Equal(t, "2026-11-27T10:15:05+04:00", body.RegisteredAt)
	require.JSONEq(t, `{"fin":"5ZJ7K2M","surname":"Məmmədov"}`, string(body.Person))

	t.Run("DuplicateSubmit", func(t *testing.T) {
		again, err := f.client.Submit(t.Context(), submission(number))
		require.NoError(t, err)
		require.Equal(t, ref, again)
		require.Equal(t, map[string]int{number: 2}, f.sim.Received())
		require.Equal(t, 1, f.sim.Created())
	})

	t.Run("Comments", func(t *testing.T) {
		at := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
		first := routers.CommentSubmission{ID: "c-1", AppealNumber: number, Reference: ref, Text: "Birinci", At: at}
		require.NoError(t, f.client.Comment(t.Context(), first))
		require.NoError(t, f.client.Comment(t.Context(), first)) // a redelivery
		require.NoError(t, f.client.Comment(t.Context(), routers.CommentSubmission{ID: "c-2", AppealNumber: number, Reference: ref, Text: "İkinci", At: at.Add(time.Minute)}))
		require.Equal(t, []string{"Birinci", "İkinci"}, f.sim.Comments(number))

		err := f.client.Comment(t.Context(), routers.CommentSubmission{ID: "c-3", AppealNumber: "AZ-SAT-2026-999999", Text: "Kimə?", At: at})
		require.True(t, routers.IsPermanent(err))
		require.ErrorIs(t, err, routers.ErrNotFound)
	})

	t.Run("Callbacks", func(t *testing.T) {
		require.Eventually(t, func() bool { return len(f.hub.Calls()) == 2 }, waitFor, tick)
		calls := f.hub.Calls()
		for i, want := range []string{"in_progress", "answered"} {
			c := calls[i]
			require.Equal(t, "/v1/districts/AZ-SAT/status", c.path)
			require.Equal(t, "Bearer "+callbackToken, c.auth)
			require.Equal(t, number, c.body.AppealNumber)
			require.Equal(t, want, c.body.Status)
			require.NotEmpty(t, c.body.Note)
			_, err := time.Parse(time.RFC3339, c.body.At)
			require.NoError(t, err)
		}
	})
}

func TestAppealValidation(t *testing.T) {
	t.Parallel()
	valid := `{"appeal_number":"AZ-SAT-2026-000001","service":"appeal","person":{"fin":"5ZJ7K2M"}}`
	tests := []struct {
		name string
		auth string
		key  string
		body string
		want int
	}{
		{name: "Valid", auth: "Bearer " + districtToken, key: "AZ-SAT-2026-000001", body: valid, want: http.StatusCreated},
		{name: "NoToken", key: "AZ-SAT-2026-000001", body: valid, want: http.StatusUnauthorized},
		{name: "WrongToken", auth: "Bearer nope", key: "AZ-SAT-2026-000001", body: valid, want: http.StatusUnauthorized},
		{name: "NotJSON", auth: "Bearer " + districtToken, key: "AZ-SAT-2026-000001", body: `{`, want: http.StatusBadRequest},
		{name: "NoNumber", auth: "Bearer " + districtToken, body: `{"person":{}}`, want: http.StatusUnprocessableEntity},
		{name: "KeyMismatch", auth: "Bearer " + districtToken, key: "AZ-SAT-2026-000002", body: valid, want: http.StatusUnprocessableEntity},
		{name: "NoKey", auth: "Bearer " + districtToken, body: valid, want: http.StatusUnprocessableEntity},
		{name: "NoPerson", auth: "Bearer " + districtToken, key: "AZ-SAT-2026-000001", body: `{"appeal_number":"AZ-SAT-2026-000001"}`, want: http.StatusUnprocessableEntity},
		{name: "NullPerson", auth: "Bearer " + districtToken, key: "AZ-SAT-2026-000001", body: `{"appeal_number":"AZ-SAT-2026-000001","person":null}`, want: http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := New(Options{Code: "AZ-SAT", Token: districtToken})
			req := httptest.NewRequest(http.MethodPost, "/appeals", strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			req.Header.Set("Idempotency-Key", tt.key)
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			require.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want == http.StatusCreated {
				require.Equal(t, 1, sim.Created())
			} else {
				require.Zero(t, sim.Created())
			}
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		modify  func(*Options)
		down    bool
		timeout bool
	}{
		{name: "Down", down: true},
		{name: "FailRate", modify: func(o *Options) { o.FailRate = 1 }},
		{name: "Latency", modify: func(o *Options) { o.Latency = time.Minute }, timeout: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, &hubStub{}, tt.modify)
			f.sim.SetDown(tt.down)
			ctx := t.Context()
			if tt.timeout {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			_, err := f.client.Submit(ctx, submission("AZ-SAT-2026-000001"))
			var te *routers.TransientError
			require.ErrorAs(t, err, &te)
			if !tt.timeout {
				require.Equal(t, time.Second, te.RetryAfter)
			}
			require.Zero(t, f.sim.Created())
			require.Empty(t, f.sim.Received())
		})
	}

	t.Run("BackUp", func(t *testing.T) {
		t.Parallel()
		f := setup(t, &hubStub{}, nil)
		f.sim.SetDown(true)
		_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.Error(t, err)
		f.sim.SetDown(false)
		_, err = f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.NoError(t, err)
	})

	t.Run("WrongToken", func(t *testing.T) {
		t.Parallel()
		f := setup(t, &hubStub{}, func(o *Options) { o.Token = "another" })
		_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.ErrorIs(t, err, rest.ErrCredentials)
	})
}

func TestCallbackRetries(t *testing.T) {
	t.Parallel()
	// The hub fails the first two attempts: the first status must arrive
	// after them, and the second only after the first.
	hub := &hubStub{answer: func(n int, _ statusBody) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	f := setup(t, hub, nil)
	f.sim.Start(t.Context())
	_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(hub.Calls()) == 4 }, waitFor, tick)
	require.Equal(t, []string{"in_progress", "in_progress", "in_progress", "answered"}, hub.statuses())
}

// TestCallbackNotYet: a 409 with Retry-After (the hub has no answer to its
// Submit yet) is reported again, not dropped.
func TestCallbackNotYet(t *testing.T) {
	t.Parallel()
	hub := &hubStub{answer: func(n int, _ statusBody) int {
		if n == 1 {
			return http.StatusConflict
		}
		return http.StatusOK
	}}
	f := setup(t, hub, nil)
	f.sim.Start(t.Context())
	_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(hub.Calls()) == 3 }, waitFor, tick)
	require.Equal(t, []string{"in_progress", "in_progress", "answered"}, hub.statuses())
}

func TestCallbackRefused(t *testing.T) {
	t.Parallel()
	hub := &hubStub{answer: func(int, statusBody) int { return http.StatusForbidden }}
	f := setup(t, hub, nil)
	f.sim.Start(t.Context())
	_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
	require.NoError(t, err)

	// Without cancelling anything, the reports must end by themselves: no
	// retry of a 4xx, no later status.
	done := make(chan struct{})
	go func() { f.sim.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("the simulator kept reporting after the hub refused")
	}
	require.Equal(t, []string{"in_progress"}, hub.statuses())
}

func TestLifecycle(t *testing.T) {
	t.Parallel()

	t.Run("AcceptedBeforeStart", func(t *testing.T) {
		t.Parallel()
		f := setup(t, &hubStub{}, nil)
		_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.NoError(t, err)
		f.sim.mu.Lock()
		require.Equal(t, []string{"AZ-SAT-2026-000001"}, f.sim.pending)
		f.sim.mu.Unlock()
		require.Empty(t, f.hub.Calls())

		f.sim.Start(t.Context())
		require.Eventually(t, func() bool { return len(f.hub.Calls()) == 2 }, waitFor, tick)
	})

	t.Run("CloseStopsCallbacksInFlight", func(t *testing.T) {
		t.Parallel()
		entered := make(chan struct{}, 1)
		hangingHub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = r.Body.Read(make([]byte, 1<<10))
			select {
			case entered <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		}))
		t.Cleanup(hangingHub.Close)
		f := setup(t, &hubStub{}, func(o *Options) { o.CallbackURL = hangingHub.URL })
		f.sim.Start(t.Context())
		_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.NoError(t, err)
		<-entered

		closed := make(chan struct{})
		go func() { f.sim.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(waitFor):
			t.Fatal("Close did not stop a callback in flight")
		}

		// Appeals still arrive after Close, but start no goroutine.
		_, err = f.client.Submit(t.Context(), submission("AZ-SAT-2026-000002"))
		require.NoError(t, err)
		f.sim.wg.Wait()
	})

	t.Run("StartContextEnds", func(t *testing.T) {
		t.Parallel()
		f := setup(t, &hubStub{}, func(o *Options) { o.StepDelay = time.Hour })
		ctx, cancel := context.WithCancel(t.Context())
		f.sim.Start(ctx)
		_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000001"))
		require.NoError(t, err)
		cancel()
		f.sim.wg.Wait() // returns only because the reports saw ctx end
		require.Empty(t, f.hub.Calls())
	})
}

func TestReferencesCount(t *testing.T) {
	t.Parallel()
	f := setup(t, &hubStub{}, func(o *Options) { o.Progress = []string{} })
	for i := 1; i <= 3; i++ {
		ref, err := f.client.Submit(t.Context(), submission(fmt.Sprintf("AZ-SAT-2026-%06d", i)))
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(ref, fmt.Sprintf("-%06d", i)), ref)
	}
	require.Equal(t, 3, f.sim.Created())
}

// TestCallbacksOfContract11: with ExtendReason the first in_progress report
// extends the deadline, the next does not; a forwarded report names
// ForwardTo, or another body by default.
func TestCallbacksOfContract11(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		forwardTo string
		want      string
	}{
		{"ToADistrictOnTheHub", "AZ-SAB", "AZ-SAB"},
		{"ToAnotherBodyByDefault", "", DefaultForwardTo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, &hubStub{}, func(o *Options) {
				o.Progress = []string{"in_progress", "in_progress", "forwarded"}
				o.ExtendReason = "Yerində yoxlama lazımdır"
				o.ForwardTo = tc.forwardTo
			})
			f.sim.Start(t.Context())
			_, err := f.client.Submit(t.Context(), submission("AZ-SAT-2026-000018"))
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(f.hub.Calls()) == 3 }, waitFor, tick)
			calls := f.hub.Calls()
			require.True(t, calls[0].body.Extend)
			require.Equal(t, "Yerində yoxlama lazımdır", calls[0].body.Reason)
			require.Empty(t, calls[0].body.ForwardedTo)
			require.False(t, calls[1].body.Extend, "extended once")
			require.Empty(t, calls[1].body.Reason)
			require.Equal(t, "forwarded", calls[2].body.Status)
			require.Equal(t, tc.want, calls[2].body.ForwardedTo)
			require.False(t, calls[2].body.Extend)
		})
	}
}
