// Package registrysim simulates the ID-card registry of contract §3 for
// `korpu sim registry`, the demo and end-to-end tests: it answers
// GET /v1/persons/{fin} with a realistic record derived from the FİN, so the
// same FİN always gets the same person, and it can be made slow, flaky or down.
package registrysim

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Sim.
type Options struct {
	// Token is the bearer token the Sim accepts; empty accepts any request.
	Token string
	// Latency delays every answer, as the real registry is slow.
	Latency time.Duration
	// FailRate is the fraction of requests, from 0 to 1, answered 503 with Retry-After: 1.
	FailRate float64
	// NotFound tells the FİNs the registry does not know (404). Default:
	// those starting with "0", which the portal never issues.
	NotFound func(fin string) bool
}

// Sim is a simulated registry; it is an http.Handler safe for concurrent use.
type Sim struct {
	opts Options
	mux  *http.ServeMux
	down atomic.Bool

	mu    sync.Mutex
	calls int
	byFIN map[string]int
}

// New returns a Sim with opts.
func New(opts Options) *Sim {
	if opts.NotFound == nil {
		opts.NotFound = func(fin string) bool { return strings.HasPrefix(fin, "0") }
	}
	s := &Sim{opts: opts, byFIN: map[string]int{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /v1/persons/{fin}", s.person)
	return s
}

// ServeHTTP answers the registry's one endpoint; other paths get 404.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetDown starts (true) or ends (false) an outage: every request gets 503.
func (s *Sim) SetDown(down bool) { s.down.Store(down) }

// Calls returns how many lookups the Sim received, answered or not.
func (s *Sim) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsFor returns how many lookups of fin the Sim received.
func (s *Sim) CallsFor(fin string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byFIN[fin]
}

func (s *Sim) person(w http.ResponseWriter, r *http.Request) {
	fin := r.PathValue("fin")
	s.mu.Lock()
	s.calls++
	s.byFIN[fin]++
	s.mu.Unlock()

	if !wait(r.Context(), s.opts.Latency) {
		return // the caller hung up
	}
	switch {
	case s.opts.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Token:
		w.Header().Set("WWW-Authenticate", `Bearer realm="registry"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{"invalid token"})
	case s.down.Load() || (s.opts.FailRate > 0 && rand.Float64() < s.opts.FailRate):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{"registry temporarily unavailable"})
	case s.opts.NotFound(fin):
		writeJSON(w, http.StatusNotFound, errorBody{"person not found"})
	default:
		writeJSON(w, http.StatusOK, Record(fin))
	}
}

// wait sleeps for d unless ctx ends first; it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do then
}
