package authlimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// clock is a settable time for the limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type fixture struct {
	clock   *clock
	reg     *prometheus.Registry
	limiter *Limiter
	handler http.Handler
}

const goodToken = "Bearer right-token-of-at-least-32-characters"

func setup(t *testing.T) fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	l := New(Config{Burst: 5, Refill: time.Minute, Now: c.now, Registerer: reg})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/districts/{code}/status", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != goodToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return fixture{clock: c, reg: reg, limiter: l, handler: l.Wrap(mux, testCredentials)}
}

func (f fixture) post(from, code, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/districts/"+code+"/status", strings.NewReader("{}"))
	req.RemoteAddr = from
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func (f fixture) failures(t *testing.T, outcome string) float64 {
	t.Helper()
	return testutil.ToFloat64(f.limiter.failures.WithLabelValues("POST /v1/districts/{code}/status", outcome))
}

// TestFlood: 200 wrong tokens from one address are 5 refusals and then
// 429s with Retry-After, each counted; the right token from elsewhere
// still works, and the flooding address waits even with the right one.
func TestFlood(t *testing.T) {
	t.Parallel()
	f := setup(t)
	codes := map[int]int{}
	for i := range 200 {
		rec := f.post("192.0.2.7:40000", "AZ-BIL", "Bearer guess-"+strconv.Itoa(i))
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			require.Equal(t, "60", rec.Header().Get("Retry-After"))
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			require.Contains(t, rec.Body.String(), `"status":429`)
		}
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 195}, codes)
	require.InDelta(t, 5, f.failures(t, outcomeWrong), 0)
	require.InDelta(t, 195, f.failures(t, outcomeThrottled), 0)

	require.Equal(t, http.StatusOK, f.post("198.51.100.9:5000", "AZ-BIL", goodToken).Code, "another source is not held off")
	require.Equal(t, http.StatusTooManyRequests, f.post("192.0.2.7:40001", "AZ-SAT", goodToken).Code,
		"the flooding source waits on the route whatever it sends")

	f.clock.advance(30 * time.Second)
	rec := f.post("192.0.2.7:40000", "AZ-BIL", "Bearer guess")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "30", rec.Header().Get("Retry-After"))
	f.clock.advance(30 * time.Second)
	require.Equal(t, http.StatusUnauthorized, f.post("192.0.2.7:40000", "AZ-BIL", "Bearer guess").Code, "one more try per Refill")
	require.Equal(t, http.StatusTooManyRequests, f.post("192.0.2.7:40000", "AZ-BIL", "Bearer guess").Code)
}

// TestSuccessResetsNothing: a party with a token of its own cannot wipe
// its record of guessing by succeeding in between.
func TestSuccessResetsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for range 4 {
		require.Equal(t, http.StatusUnauthorized, f.post("192.0.2.7:1", "AZ-BIL", "Bearer guess").Code)
		require.Equal(t, http.StatusOK, f.post("192.0.2.7:1", "AZ-BIL", goodToken).Code)
	}
	require.Equal(t, http.StatusUnauthorized, f.post("192.0.2.7:1", "AZ-BIL", "Bearer guess").Code)
	require.Equal(t, http.StatusTooManyRequests, f.post("192.0.2.7:1", "AZ-BIL", goodToken).Code)
}

// TestMissingCredentials are counted but guess nothing, so they hold no one off.
func TestMissingCredentials(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, f.post("192.0.2.7:1", "AZ-BIL", "").Code)
	}
	require.InDelta(t, 20, f.failures(t, outcomeMissing), 0)
	require.InDelta(t, 0, f.failures(t, outcomeWrong), 0)
	require.Equal(t, http.StatusOK, f.post("192.0.2.7:1", "AZ-BIL", goodToken).Code)
}

// TestIPv6SourceIsItsPrefix: the addresses of one /64 are one source.
func TestIPv6SourceIsItsPrefix(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, f.post("[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:443", "AZ-BIL", "Bearer guess").Code)
	}
	require.Equal(t, http.StatusTooManyRequests, f.post("[2001:db8:1:2:ffff::9]:443", "AZ-BIL", "Bearer guess").Code)
	require.Equal(t, http.StatusUnauthorized, f.post("[2001:db8:1:3::1]:443", "AZ-BIL", "Bearer guess").Code)
	require.Equal(t, netip.MustParsePrefix("192.0.2.7/32"), sourceOf(&http.Request{RemoteAddr: "[::ffff:192.0.2.7]:1"}))
}

// TestBoundedMemory: refilled entries are swept, and past maxSources new
// sources share one entry per route instead of growing the table.
func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	l := f.limiter
	route := "POST /v1/districts/{code}/status"
	source := func(i int) key {
		return key{source: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32), route: route}
	}
	for i := range maxSources {
		l.reserve(source(i), true)
	}
	require.Equal(t, maxSources, len(l.entries))

	// Full of active entries: newcomers share the overflow entry.
	for i := maxSources; i < maxSources+5; i++ {
		l.reserve(source(i), true)
	}
	require.Equal(t, maxSources+1, len(l.entries))
	_, wait := l.reserve(source(maxSources+100), false)
	require.Positive(t, wait, "a new source past the cap shares the exhausted overflow entry")

	// Refilled entries carry nothing: the next failure sweeps them.
	f.clock.advance(l.idle())
	l.reserve(source(0), true)
	require.Equal(t, 1, len(l.entries))
	_, wait = l.reserve(source(maxSources+100), false)
	require.Zero(t, wait)
}

// TestNoRoute: what the mux does not route is passed on untouched and uncounted.
func TestNoRoute(t *testing.T) {
	t.Parallel()
	f := setup(t)
	req := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Zero(t, testutil.CollectAndCount(f.limiter.failures))
}

func TestNilLimiterLimitsNothing(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var l *Limiter
	require.Same(t, mux, l.Wrap(mux, testCredentials))
}

// TestFloodInParallel: wrong tokens sent all at once, while the first are
// still being answered, get no more refusals than the burst: each guess
// takes its failure before it is served, and a known token takes none.
func TestFloodInParallel(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	l := New(Config{Burst: 5, Refill: time.Minute, Now: c.now, Registerer: prometheus.NewRegistry()})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/districts/{code}/status", func(w http.ResponseWriter, r *http.Request) {
		<-release // every attempt is in flight before any is answered
		if r.Header.Get("Authorization") != goodToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	f := fixture{clock: c, limiter: l, handler: l.Wrap(mux, testCredentials)}
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
	)
	for i := range 200 {
		wg.Go(func() {
			code := f.post("192.0.2.8:1", "AZ-BIL", "Bearer guess-"+strconv.Itoa(i)).Code
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	// Meanwhile a party that knows its token sends 20 at once from another
	// address: none is held off, however many are in flight.
	var known sync.Map
	for i := range 20 {
		wg.Go(func() { known.Store(i, f.post("192.0.2.9:1", "AZ-BIL", goodToken).Code) })
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return codes[http.StatusTooManyRequests] == 195
	}, 10*time.Second, time.Millisecond, "all but the burst held off while the burst is in flight")
	close(release)
	wg.Wait()
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 195}, codes)
	for i := range 20 {
		code, _ := known.Load(i)
		require.Equal(t, http.StatusOK, code, "request %d of the known party", i)
	}
}

// testCredentials knows one token, goodToken.
func testCredentials(r *http.Request) Credentials {
	switch r.Header.Get("Authorization") {
	case "":
		return CredentialsNone
	case goodToken:
		return CredentialsKnown
	}
	return CredentialsUnknown
}
