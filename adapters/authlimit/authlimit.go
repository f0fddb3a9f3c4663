// Package authlimit holds off callers who keep failing to authenticate:
// after a small burst of 401 answers on one route, a source gets 429 with
// Retry-After there until its allowance refills, and every failure is
// counted in korpu_http_auth_failures_total.
//
// It watches the status of the answers rather than calling the checks, so
// it holds whatever the handlers decide is a failed authentication (a
// wrong token, an unknown district, a bad sign-in) without knowing how
// they decide it.
//
// A source is the TCP peer's address (an IPv6 one by its /64, which one
// machine usually holds whole). X-Forwarded-For is not read: any caller
// can write it. Behind a reverse proxy every caller is the proxy, so the
// proxy should limit by the real address itself.
package authlimit

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/korpu-az/korpu/adapters/problem"
)

// maxSources bounds the entries kept: a few hundred bytes each.
const maxSources = 10_000

// The outcomes of the failures metric.
const (
	outcomeMissing   = "missing"   // 401 to a request that presented no credentials
	outcomeWrong     = "wrong"     // 401 to credentials presented: counted against the source
	outcomeThrottled = "throttled" // 429: the source was held off before its credentials were looked at
)

// Config sets the allowance of failures.
type Config struct {
	// Burst is how many failed authentications a source may make in a row on
	// one route before it is held off.
	Burst int
	// Refill is how long after a failure the source may fail once more.
	Refill time.Duration
	// Now is the hub's clock.
	Now        func() time.Time
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Limiter tracks the failures of each source on each route. One is shared
// by every handler it wraps; a nil *Limiter limits nothing.
type Limiter struct {
	cfg      Config
	failures *prometheus.CounterVec

	mu        sync.Mutex
	entries   map[key]*rate.Limiter
	lastSweep time.Time
	full      bool // a sweep left the table at maxSources: new sources share one entry per route
}

// key is a source on a route; the zero source is the shared overflow entry.
type key struct {
	source netip.Prefix
	route  string
}

// New returns a limiter with cfg's allowance.
func New(cfg Config) *Limiter {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{cfg: cfg, entries: make(map[key]*rate.Limiter), lastSweep: cfg.Now(),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "korpu_http_auth_failures_total",
			Help: "Failed authentications on the HTTP API and the dashboard, by route pattern and outcome: missing (no credentials), wrong (counted against the source), throttled (answered 429).",
		}, []string{"route", "outcome"})}
	cfg.Registerer.MustRegister(l.failures)
	return l
}

// Router is what Wrap needs of an http.ServeMux: the pattern a request
// matches, known before the request is served.
type Router interface {
	http.Handler
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// Credentials is what a request presents, as far as the router's owner can
// tell before serving it.
type Credentials int

// What a request may present.
const (
	// CredentialsNone: no token, cookie or form; a 401 to it guessed nothing.
	CredentialsNone Credentials = iota
	// CredentialsKnown: a token (or session) the hub issued; parallel
	// requests of a party that knows its token are never held off for it.
	CredentialsKnown
	// CredentialsUnknown: something the hub does not know: a guess.
	CredentialsUnknown
)

// Wrap holds off, on mux's routes, sources that failed too often.
// credentials says what a request presents: a guess (unknown credentials)
// takes its failure before it is served, so that guesses in flight at once
// cannot each pass a check that only counts the answers already given; a
// known token's 401 (a district's token on another's path) is counted,
// as wrong, but not charged; a 401 to a request with none is counted, as
// missing, and not charged either.
func (l *Limiter) Wrap(mux Router, credentials func(*http.Request) Credentials) http.Handler {
	if l == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := mux.Handler(r)
		if route == "" { // no route: ServeMux's own 404, 405 or redirect
			mux.ServeHTTP(w, r)
			return
		}
		k := key{source: sourceOf(r), route: route}
		presents := credentials(r)
		var guess attempt
		if presents != CredentialsNone {
			var wait time.Duration
			if guess, wait = l.reserve(k, presents == CredentialsUnknown); wait > 0 {
				l.failures.WithLabelValues(route, outcomeThrottled).Inc()
				tooMany(w, wait)
				return
			}
		}
		rec := &statusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r)
		switch {
		case rec.status != http.StatusUnauthorized:
			// A success resets nothing: a party with a token of its own
			// must not wipe its record of guessing others'.
			guess.cancel(l.cfg.Now())
		case presents == CredentialsNone:
			l.failures.WithLabelValues(route, outcomeMissing).Inc()
		default:
			// A known token refused here (a district's on another's
			// path) is counted but guessed nothing: only guesses are charged.
			l.failures.WithLabelValues(route, outcomeWrong).Inc()
			if presents == CredentialsUnknown && guess.limiter.TokensAt(l.cfg.Now()) < 1 {
				l.cfg.Logger.Warn("authentication failures: source held off", "source", k.source.String(), "route", k.route,
					"burst", l.cfg.Burst, "refill", l.cfg.Refill)
			}
		}
	})
}

// attempt is one request's reserved failure on its source's limiter.
type attempt struct {
	*rate.Reservation
	limiter *rate.Limiter
}

// cancel gives a reserved failure back.
func (a attempt) cancel(now time.Time) {
	if a.Reservation != nil {
		a.CancelAt(now)
	}
}

// reserve says how long k must wait before its next attempt, 0 if it may
// go on; with take, a failure is taken from k's allowance for it.
func (l *Limiter) reserve(k key, take bool) (attempt, time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle() {
		l.sweep(now)
	}
	lim, ok := l.entries[k]
	if !ok {
		// Once a sweep found the table full of live entries, the next
		// waits for its time (a sweep per newcomer would cost O(n) each),
		// and newcomers share one entry per route.
		if !l.full && len(l.entries) >= maxSources {
			l.sweep(now)
		}
		if l.full {
			k.source = netip.Prefix{}
		}
		lim, ok = l.entries[k]
	}
	if !ok {
		if !take {
			return attempt{}, 0 // a known party that never failed here
		}
		lim = rate.NewLimiter(rate.Every(l.cfg.Refill), l.cfg.Burst)
		l.entries[k] = lim
	}
	if tokens := lim.TokensAt(now); tokens < 1 {
		return attempt{}, time.Duration((1 - tokens) * float64(l.cfg.Refill))
	}
	if !take {
		return attempt{limiter: lim}, 0
	}
	return attempt{Reservation: lim.ReserveN(now, 1), limiter: lim}, 0
}

// idle is how long an entry takes to refill completely: then it holds
// nothing a new one would not, and may go.
func (l *Limiter) idle() time.Duration { return time.Duration(l.cfg.Burst) * l.cfg.Refill }

// sweep drops the entries that have refilled. The caller holds l.mu.
func (l *Limiter) sweep(now time.Time) {
	burst := float64(l.cfg.Burst)
	for k, lim := range l.entries {
		if lim.TokensAt(now) >= burst {
			delete(l.entries, k)
		}
	}
	l.lastSweep = now
	l.full = len(l.entries) >= maxSources
}

// sourceOf is the caller's address, an IPv6 one as its /64; one the hub
// cannot read is one shared source.
func sourceOf(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits) // bits fits the address family
	return p
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10))
	problem.Write(w, problem.Bilingual(http.StatusTooManyRequests,
		"Bu ünvandan çox sayda uğursuz giriş cəhdi olub; Retry-After saniyə sonra yenə cəhd edin.",
		"Too many failed authentications from this address; try again after Retry-After seconds."))
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
