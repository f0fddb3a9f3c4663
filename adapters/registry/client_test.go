package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/routers"
)

const (
	token = "s3cret-token"
	fin   = "5ZJ7K2M"
)

var (
	_ routers.Registry         = (*registry.Client)(nil)
	_ routers.RecoveryNotifier = (*registry.Client)(nil) // the hub expedites on recovery only if it is one
)

// record is a registry answer about fin in the contract's shape.
func record(fin string) string {
	return fmt.Sprintf(`{"fin":%q,"surname":"Məmmədov","name":"Rəşad","patronymic":"Elçin oğlu",`+
		`"birth_date":"1988-03-14","gender":"male","birth_place":"Biləsuvar rayonu",`+
		`"registration_address":"Biləsuvar şəhəri, Nizami küçəsi 14",`+
		`"id_card":{"series":"AZE","number":"12345678","issued_at":"2019-05-02","expires_at":"2029-05-02","issued_by":"ASAN xidmət №1"}}`, fin)
}

// upstream is a fake registry that counts what it is asked.
type upstream struct {
	srv      *httptest.Server
	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64

	mu     sync.Mutex
	byFIN  map[string]int
	tokens []string
}

func (u *upstream) callsFor(fin string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byFIN[fin]
}

// newUpstream starts a fake registry answering with h.
func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{byFIN: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/persons/{fin}", func(w http.ResponseWriter, r *http.Request) {
		n := u.inFlight.Add(1)
		defer u.inFlight.Add(-1)
		for m := u.maxIn.Load(); n > m && !u.maxIn.CompareAndSwap(m, n); m = u.maxIn.Load() {
		}
		u.calls.Add(1)
		u.mu.Lock()
		u.byFIN[r.PathValue("fin")]++
		u.tokens = append(u.tokens, r.Header.Get("Authorization"))
		u.mu.Unlock()
		h(w, r)
	})
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

// setup starts a fake registry answering with h and a client of it.
func setup(t *testing.T, cfg registry.Config, h http.HandlerFunc) (*registry.Client, *upstream) {
	t.Helper()
	u := newUpstream(t, h)
	cfg.URL = u.srv.URL
	cfg.Token = token
	c, err := registry.New(cfg, nil, nil)
	require.NoError(t, err)
	return c, u
}

// answer replies with a fixed status, headers and body.
func answer(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// echo answers 200 with the record of the FİN asked for.
func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(record(r.PathValue("fin"))))
}

func transient(t *testing.T, err error) *routers.TransientError {
	t.Helper()
	var te *routers.TransientError
	require.ErrorAs(t, err, &te)
	return te
}

func TestPersonAnswers(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, rec json.RawMessage, err error)
	isTransient := func(retry time.Duration) check {
		return func(t *testing.T, rec json.RawMessage, err error) {
			require.Nil(t, rec)
			require.Equal(t, retry, transient(t, err).RetryAfter)
			require.False(t, routers.IsPermanent(err))
		}
	}
	isBad := func(t *testing.T, rec json.RawMessage, err error) {
		require.Nil(t, rec)
		require.ErrorIs(t, err, registry.ErrBadRecord)
		var te *routers.TransientError
		require.NotErrorAs(t, err, &te)
	}
	isUnauthorized := func(t *testing.T, rec json.RawMessage, err error) {
		require.Nil(t, rec)
		require.ErrorIs(t, err, registry.ErrUnauthorized)
		require.ErrorContains(t, err, "token")
		var te *routers.TransientError
		require.NotErrorAs(t, err, &te)
		require.False(t, routers.IsPermanent(err), "a bad token is no fault of the request")
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		check   check
	}{
		{"Found", answer(200, record(fin)), func(t *testing.T, rec json.RawMessage, err error) {
			require.NoError(t, err)
			require.JSONEq(t, record(fin), string(rec))
		}},
		{"NotFound", answer(404, `{"error":"not found"}`), func(t *testing.T, rec json.RawMessage, err error) {
			require.Nil(t, rec)
			require.ErrorIs(t, err, routers.ErrPersonNotFound)
			require.NotContains(t, err.Error(), fin)
		}},
		{"TooManySeconds", answer(429, "", "Retry-After", "7"), isTransient(7 * time.Second)},
		{"TooManyNoHeader", answer(429, ""), isTransient(0)},
		{"TooManyCapped", answer(429, "", "Retry-After", "86400"), isTransient(5 * time.Minute)},
		{"Unavailable", answer(503, "", "Retry-After", "2"), isTransient(2 * time.Second)},
		{"ServerError", answer(500, "boom"), isTransient(0)},
		{"BadGateway", answer(502, "<html>"), isTransient(0)},
		{"Unauthorized", answer(401, ""), isUnauthorized},
		{"Forbidden", answer(403, ""), isUnauthorized},
		{"MalformedJSON", answer(200, `{"fin":"5ZJ7K2M",`), isBad},
		{"Array", answer(200, `[{"fin":"5ZJ7K2M"}]`), isBad},
		{"Null", answer(200, `null`), isBad},
		{"NoFIN", answer(200, `{"name":"Rəşad"}`), isBad},
		{"FINNotString", answer(200, `{"fin":5}`), isBad},
		{"OtherPerson", answer(200, record("9XY8W7V")), func(t *testing.T, rec json.RawMessage, err error) {
			isBad(t, rec, err)
			require.NotContains(t, err.Error(), "9XY8W7V", "another citizen's FİN leaks")
		}},
		{"TooLarge", answer(200, `{"fin":"5ZJ7K2M","pad":"`+strings.Repeat("x", 1<<20)+`"}`), isBad},
		{"BadRequest", answer(400, ""), func(t *testing.T, rec json.RawMessage, err error) {
			require.ErrorContains(t, err, "unexpected status 400")
			var te *routers.TransientError
			require.NotErrorAs(t, err, &te)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, u := setup(t, registry.Config{}, tt.handler)
			rec, err := c.Person(t.Context(), fin)
			tt.check(t, rec, err)
			require.Equal(t, []string{"Bearer " + token}, u.tokens)
			require.Equal(t, 1, u.callsFor(fin))
		})
	}
}

func TestPersonRetryAfterDate(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	c, _ := setup(t, registry.Config{}, answer(429, "", "Retry-After", at))
	_, err := c.Person(t.Context(), fin)
	wait := transient(t, err).RetryAfter
	// The date has whole seconds: the wait is two minutes less under a second.
	require.Greater(t, wait, time.Minute)
	require.LessOrEqual(t, wait, 2*time.Minute)
}

func TestPersonTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c, _ := setup(t, registry.Config{Timeout: 50 * time.Millisecond}, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	start := time.Now()
	_, err := c.Person(t.Context(), fin)
	require.ErrorAs(t, err, new(*routers.TransientError))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestPersonUnreachable(t *testing.T) {
	t.Parallel()
	c, u := setup(t, registry.Config{}, echo)
	u.srv.Close()
	_, err := c.Person(t.Context(), fin)
	require.ErrorAs(t, err, new(*routers.TransientError))
	require.NotContains(t, err.Error(), fin)
	require.Equal(t, uint64(1), c.Stats().Errors)
}

func TestPersonCache(t *testing.T) {
	t.Parallel()
	t.Run("Record", func(t *testing.T) {
		t.Parallel()
		c, u := setup(t, registry.Config{}, echo)
		first, err := c.Person(t.Context(), fin)
		require.NoError(t, err)
		first[0] = 'X' // the caller owns what it gets; the cache must not change
		second, err := c.Person(t.Context(), fin)
		require.NoError(t, err)
		require.JSONEq(t, record(fin), string(second))
		require.Equal(t, 1, u.callsFor(fin))
		require.Equal(t, registry.Stats{Calls: 1, CacheHits: 1}, c.Stats())

		_, err = c.Person(t.Context(), "9XY8W7V")
		require.NoError(t, err)
		require.Equal(t, 1, u.callsFor("9XY8W7V"), "the cache is per FİN")
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		c, u := setup(t, registry.Config{}, answer(404, ""))
		for range 3 {
			_, err := c.Person(t.Context(), fin)
			require.ErrorIs(t, err, routers.ErrPersonNotFound)
		}
		require.Equal(t, 1, u.callsFor(fin))
		require.Equal(t, uint64(2), c.Stats().CacheHits)
	})
	t.Run("NotFoundExpires", func(t *testing.T) {
		t.Parallel()
		c, u := setup(t, registry.Config{NotFoundTTL: 20 * time.Millisecond}, answer(404, ""))
		require.Eventually(t, func() bool {
			_, err := c.Person(t.Context(), fin)
			return errors.Is(err, routers.ErrPersonNotFound) && u.callsFor(fin) == 2
		}, 5*time.Second, 5*time.Millisecond)
	})
	t.Run("RecordExpires", func(t *testing.T) {
		t.Parallel()
		c, u := setup(t, registry.Config{CacheTTL: 20 * time.Millisecond}, echo)
		require.Eventually(t, func() bool {
			_, err := c.Person(t.Context(), fin)
			return err == nil && u.callsFor(fin) == 2
		}, 5*time.Second, 5*time.Millisecond)
	})
	t.Run("ErrorsNotCached", func(t *testing.T) {
		t.Parallel()
		var fail atomic.Bool
		fail.Store(true)
		c, u := setup(t, registry.Config{}, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			echo(w, r)
		})
		_, err := c.Person(t.Context(), fin)
		require.ErrorAs(t, err, new(*routers.TransientError))
		fail.Store(false)
		_, err = c.Person(t.Context(), fin)
		require.NoError(t, err)
		require.Equal(t, 2, u.callsFor(fin))
		require.Equal(t, registry.Stats{Calls: 2, Errors: 1}, c.Stats())
	})
}

func TestPersonBurstMakesOneCall(t *testing.T) {
	t.Parallel()
	const callers = 100
	var entered atomic.Int64
	release := make(chan struct{})
	// Room for every caller: only the single flight keeps them to one request.
	c, u := setup(t, registry.Config{MaxConcurrent: callers}, func(w http.ResponseWriter, r *http.Request) {
		<-release
		echo(w, r)
	})
	var wg sync.WaitGroup
	results := make([]json.RawMessage, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			entered.Add(1)
			results[i], errs[i] = c.Person(t.Context(), fin)
		})
	}
	require.Eventually(t, func() bool { return entered.Load() == callers && u.calls.Load() >= 1 },
		5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		require.JSONEq(t, record(fin), string(results[i]))
	}
	require.Equal(t, 1, u.callsFor(fin))
	require.Equal(t, uint64(1), c.Stats().Calls)
}

func TestPersonMaxConcurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client func(*httptest.Server) *http.Client
	}{
		{"OwnClient", func(*httptest.Server) *http.Client { return nil }},
		{"CallersClient", func(s *httptest.Server) *http.Client { return s.Client() }}, // no connection limit of its own
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const limit, fins = 3, 20
			release := make(chan struct{})
			u := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				<-release
				echo(w, r)
			})
			c, err := registry.New(registry.Config{URL: u.srv.URL, Token: token, MaxConcurrent: limit}, tt.client(u.srv), nil)
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make([]error, fins)
			for i := range fins {
				wg.Go(func() { _, errs[i] = c.Person(t.Context(), fmt.Sprintf("ABC%04d", i)) })
			}
			// At least limit in flight shows the callers got that far; more fails below.
			require.Eventually(t, func() bool { return u.inFlight.Load() >= limit }, 5*time.Second, time.Millisecond)
			close(release)
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, int64(fins), u.calls.Load())
			require.Equal(t, int64(limit), u.maxIn.Load())
		})
	}
}

func TestPersonWaitRespectsContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c, u := setup(t, registry.Config{MaxConcurrent: 1}, func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("fin") == "AAA1111" {
			<-release
		}
		echo(w, r)
	})
	busy := make(chan error, 1)
	go func() {
		_, err := c.Person(t.Context(), "AAA1111")
		busy <- err
	}()
	require.Eventually(t, func() bool { return u.inFlight.Load() == 1 }, 5*time.Second, time.Millisecond)

	// A caller that gives up while queued gets its context's error at once…
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Person(ctx, "BBB2222")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// …without failing another caller of the same FİN that joined its lookup.
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leader := &watchedCtx{Context: leaderCtx}
	leaderDone := make(chan error, 1)
	go func() {
		_, err := c.Person(leader, "CCC3333")
		leaderDone <- err
	}()
	require.Eventually(t, func() bool { return leader.dones.Load() > 0 }, 5*time.Second, time.Millisecond)
	follower := &watchedCtx{Context: t.Context()}
	followerDone := make(chan error, 1)
	go func() {
		_, err := c.Person(follower, "CCC3333")
		followerDone <- err
	}()
	require.Eventually(t, func() bool { return follower.dones.Load() > 0 }, 5*time.Second, time.Millisecond)
	cancelLeader()
	require.ErrorIs(t, <-leaderDone, context.Canceled)

	close(release)
	require.NoError(t, <-busy)
	require.NoError(t, <-followerDone)
	require.Equal(t, 0, u.callsFor("BBB2222"), "an abandoned lookup must not call the registry")
	require.Equal(t, 1, u.callsFor("CCC3333"))
}

// watchedCtx counts calls of Done: Person calls it only once its lookup is
// under way, which tells the test that a caller has joined a lookup.
type watchedCtx struct {
	context.Context
	dones atomic.Int64
}

func (w *watchedCtx) Done() <-chan struct{} {
	w.dones.Add(1)
	return w.Context.Done()
}

func TestPersonHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
	}{
		{"TooManyRequests", http.StatusTooManyRequests},
		{"ServiceUnavailable", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, u := setup(t, registry.Config{}, answer(tt.status, "", "Retry-After", "60"))
			_, err := c.Person(t.Context(), fin)
			require.Equal(t, time.Minute, transient(t, err).RetryAfter)

			// Any FİN now waits, without a request, for the rest of the
			// minute: a hold-off of the hub's own, no failed attempt.
			_, err = c.Person(t.Context(), "9XY8W7V")
			var held *routers.HoldOffError
			require.ErrorAs(t, err, &held)
			require.NotErrorAs(t, err, new(*routers.TransientError), "a hold-off must not pass for a failed attempt")
			require.Greater(t, held.Wait, 50*time.Second)
			require.LessOrEqual(t, held.Wait, time.Minute)
			require.Equal(t, int64(1), u.calls.Load())
			require.Equal(t, registry.Stats{Calls: 1, Errors: 1, Throttled: 1}, c.Stats())
		})
	}
	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		var limited atomic.Bool
		limited.Store(true)
		c, u := setup(t, registry.Config{}, func(w http.ResponseWriter, r *http.Request) {
			if limited.CompareAndSwap(true, false) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			echo(w, r)
		})
		_, err := c.Person(t.Context(), fin)
		require.ErrorAs(t, err, new(*routers.TransientError))
		require.Eventually(t, func() bool {
			_, err := c.Person(t.Context(), fin)
			return err == nil
		}, 5*time.Second, 10*time.Millisecond)
		require.Equal(t, 2, u.callsFor(fin), "no request while the registry asked to wait")
	})
}

// TestOnRecovery: the client tells when the registry answers again after a
// failure, and only then: not on a cached answer, not while it holds off.
func TestOnRecovery(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	c, _ := setup(t, registry.Config{}, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		echo(w, r)
	})
	var recoveries atomic.Int64
	c.OnRecovery(func() { recoveries.Add(1) })

	_, err := c.Person(t.Context(), fin)
	require.NoError(t, err)
	require.Zero(t, recoveries.Load(), "an answer after no failure is no recovery")

	down.Store(true)
	_, err = c.Person(t.Context(), "9XY8W7V")
	require.ErrorAs(t, err, new(*routers.TransientError))
	_, err = c.Person(t.Context(), fin)
	require.NoError(t, err, "cached")
	_, err = c.Person(t.Context(), "7SENTXN")
	require.ErrorAs(t, err, new(*routers.HoldOffError))
	require.Zero(t, recoveries.Load(), "neither a cached answer nor a hold-off is a recovery")

	down.Store(false)
	require.Eventually(t, func() bool {
		_, err := c.Person(t.Context(), "7SENTXN")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, int64(1), recoveries.Load())
	_, err = c.Person(t.Context(), "9XY8W7V")
	require.NoError(t, err)
	require.Equal(t, int64(1), recoveries.Load(), "told once per recovery")
}

func TestLogsMaskFIN(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer // written only inside the lookups, which end before it is read
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	handlers := map[string]http.HandlerFunc{
		"AAA1111": echo,
		"BBB2222": answer(404, ""),
		"CCC3333": answer(500, ""),
		"DDD4444": answer(200, record("EEE5555")),
		"FFF6666": answer(401, ""),
		"GGG7777": answer(400, ""),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[strings.TrimPrefix(r.URL.Path, "/v1/persons/")](w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := registry.New(registry.Config{URL: srv.URL, Token: token}, srv.Client(), logger)
	require.NoError(t, err)
	for f := range handlers {
		_, _ = c.Person(t.Context(), f)
	}
	srv.Close()
	_, err = c.Person(t.Context(), "HHH8888") // unreachable
	require.ErrorAs(t, err, new(*routers.TransientError))

	logs := buf.String()
	for _, f := range []string{"AAA1111", "BBB2222", "CCC3333", "DDD4444", "EEE5555", "FFF6666", "GGG7777", "HHH8888", token} {
		require.NotContains(t, logs, f)
	}
	require.Contains(t, logs, "fin=CCC****")
	require.Contains(t, logs, "fin=HHH****")
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, err := registry.New(registry.Config{URL: "http://registry.test"}, nil, nil)
	require.ErrorContains(t, err, "token is required")
}

// TestHoldOffOnTheHubsClock: the registry's Retry-After date and the
// hold-off that follows are measured on the hub's clock, not the machine's.
func TestHoldOffOnTheHubsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 6, 13, 7, 0, 0, 0, time.UTC)
	c, u := setup(t, registry.Config{Now: func() time.Time { return now }},
		answer(http.StatusServiceUnavailable, "", "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)))
	_, err := c.Person(t.Context(), fin)
	require.Equal(t, 90*time.Second, transient(t, err).RetryAfter)

	_, err = c.Person(t.Context(), fin)
	var held *routers.HoldOffError
	require.ErrorAs(t, err, &held)
	require.Equal(t, 90*time.Second, held.Wait, "the clock has not moved: the whole hold-off is left")
	require.Equal(t, 1, u.callsFor(fin), "held off, the registry was not called again")
}

// TestSetToken: a new token (a reload) goes with the next request.
func TestSetToken(t *testing.T) {
	t.Parallel()
	c, u := setup(t, registry.Config{}, echo) // two persons: the cache answers neither
	_, err := c.Person(t.Context(), "5ZJ7K2M")
	require.NoError(t, err)
	c.SetToken("the-registry-token-after-the-reload")
	_, err = c.Person(t.Context(), "7TR9M4B")
	require.NoError(t, err)
	u.mu.Lock()
	defer u.mu.Unlock()
	require.Equal(t, []string{"Bearer " + token, "Bearer the-registry-token-after-the-reload"}, u.tokens)
}
