// Package restdistrict simulates a modern district system (contract §4) for
// `korpu sim rest-district`, the demo and end-to-end tests: it accepts
// appeals and comments the way a vendor's REST API does, and reports the
// appeal's progress back to the hub with status callbacks.
package restdistrict

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/routers"
)

// DefaultStepDelay is the wait before each callback when Options.StepDelay is zero.
const DefaultStepDelay = 200 * time.Millisecond

// DefaultProgress is what the simulated district reports after accepting an appeal.
var DefaultProgress = []string{string(routers.StatusInProgress), string(routers.StatusAnswered)}

// DefaultForwardTo is the body a forwarded report names when Options.ForwardTo is empty.
const DefaultForwardTo = "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi"

// maxRequestBody bounds what the simulator reads of a request: the portal's
// body is at most 256 KiB, the person record is small.
const maxRequestBody = 1 << 20

// Options configure a simulated district.
type Options struct {
	// Code is the district's code, e.g. AZ-SAT; it names the district in the
	// callback URL and, without its "AZ-" prefix, starts its references.
	Code string
	// Token is the bearer token the hub must present; empty accepts any caller.
	Token string
	// CallbackURL is the hub's base URL, e.g. http://127.0.0.1:8080; empty
	// turns progress callbacks off.
	CallbackURL string
	// CallbackToken is the bearer token the simulator presents to the hub.
	CallbackToken string
	// Progress lists the statuses reported, in order, after accepting an
	// appeal. Nil means DefaultProgress; an empty slice reports nothing.
	Progress []string
	// ForwardTo is what a forwarded report names as the competent body
	// (contract §4 v1.1): a district code on the hub or another body's name.
	// Default DefaultForwardTo.
	ForwardTo string
	// ExtendReason, if set, makes the first in_progress report extend the
	// appeal's deadline (contract §4 v1.1) with this reason.
	ExtendReason string
	// StepDelay is the wait before each callback. Default DefaultStepDelay (200ms).
	StepDelay time.Duration
	// Latency delays every answer, to mimic a slow system. Default none.
	Latency time.Duration
	// FailRate is the fraction of calls answered 503 with Retry-After: 1,
	// from 0 (none, the default) to 1 (all).
	FailRate float64
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Progress == nil {
		o.Progress = DefaultProgress
	}
	if o.StepDelay <= 0 {
		o.StepDelay = DefaultStepDelay
	}
	if o.ForwardTo == "" {
		o.ForwardTo = DefaultForwardTo
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Sim is a simulated district system; it is an http.Handler. Callbacks run
// between Start and Close; appeals accepted before Start report their
// progress once it is called.
type Sim struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	hub     *http.Client // for callbacks

	mu       sync.Mutex
	appeals  map[string]*appeal // by appeal number
	received map[string]int     // POST /appeals calls by appeal number
	created  int
	down     bool
	started  bool
	closed   bool
	pending  []string // accepted before Start
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

type appeal struct {
	body        rest.AppealBody
	reference   string
	comments    []string
	commentKeys map[string]bool
}

// New returns a simulated district; call Start to let it report progress.
func New(opts Options) *Sim {
	opts.setDefaults()
	s := &Sim{
		opts:     opts,
		log:      opts.Logger.With("district", opts.Code),
		hub:      &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 10 * time.Second},
		appeals:  make(map[string]*appeal),
		received: make(map[string]int),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /appeals", s.handleAppeal)
	mux.HandleFunc("POST /appeals/{number}/comments", s.handleComment)
	s.handler = mux
	return s
}

// Start lets the simulator report progress until ctx ends or Close is called.
// Later calls do nothing.
func (s *Sim) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	for _, number := range s.pending {
		s.launch(number)
	}
	s.pending = nil
}

// Close stops the callbacks in flight and waits for them to return.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.hub.CloseIdleConnections()
}

// SetDown makes the simulator answer every call 503 (true) or serve again (false).
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Received returns, by appeal number, how many POST /appeals calls got past
// the simulated faults and the token check and named an appeal, valid or not.
func (s *Sim) Received() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.received)
}

// Created returns how many distinct appeals the simulator has accepted.
func (s *Sim) Created() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// Appeal returns the body an accepted appeal arrived with.
func (s *Sim) Appeal(number string) (rest.AppealBody, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.appeals[number]
	if !ok {
		return rest.AppealBody{}, false
	}
	return a.body, true
}

// Comments returns the texts of an appeal's comments, in arrival order.
func (s *Sim) Comments(number string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.appeals[number]; ok {
		return slices.Clone(a.comments)
	}
	return nil
}

// ServeHTTP answers POST /appeals and POST /appeals/{number}/comments after
// the configured latency and simulated faults.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Reading the body first lets the server notice a caller that gives up
	// during the latency: it watches the connection only once the body is read.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s.opts.Latency > 0 {
		t := time.NewTimer(s.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down || (s.opts.FailRate > 0 && rand.Float64() < s.opts.FailRate) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "the system is busy, try again")
		return
	}
	if s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.opts.Token)) != 1 {
		writeError(w, http.StatusUnauthorized, "invalid bearer token")
		return
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Sim) handleAppeal(w http.ResponseWriter, r *http.Request) {
	var body rest.AppealBody
	if err := decode(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.AppealNumber == "" {
		writeError(w, http.StatusUnprocessableEntity, "appeal_number is missing")
		return
	}
	s.count(body.AppealNumber)
	switch {
	case r.Header.Get("Idempotency-Key") != body.AppealNumber:
		writeError(w, http.StatusUnprocessableEntity, "Idempotency-Key does not match appeal_number")
		return
	case len(body.Person) == 0 || string(body.Person) == "null":
		writeError(w, http.StatusUnprocessableEntity, "person is missing")
		return
	}
	ref, created := s.accept(body)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("appeal accepted", "appeal", body.AppealNumber, "reference", ref, "service", body.Service)
	}
	writeJSON(w, status, rest.ReferenceBody{Reference: ref})
}

func (s *Sim) count(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received[number]++
}

// accept records a new appeal and schedules its progress, or finds the
// reference of a known one. The progress is scheduled before the caller
// answers, so a test that got the answer can wait for the reports.
func (s *Sim) accept(body rest.AppealBody) (reference string, created bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.appeals[body.AppealNumber]; ok {
		return a.reference, false
	}
	s.created++
	a := &appeal{body: body, reference: s.reference(s.created), commentKeys: make(map[string]bool)}
	s.appeals[body.AppealNumber] = a
	s.schedule(body.AppealNumber)
	return a.reference, true
}

// reference is the district's own number, e.g. SAT-2026-000123.
func (s *Sim) reference(seq int) string {
	return fmt.Sprintf("%s-%d-%06d", strings.TrimPrefix(s.opts.Code, "AZ-"), time.Now().In(routers.Baku).Year(), seq)
}

func (s *Sim) handleComment(w http.ResponseWriter, r *http.Request) {
	var body rest.CommentBody
	if err := decode(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if strings.TrimSpace(body.Text) == "" {
		writeError(w, http.StatusUnprocessableEntity, "text is missing")
		return
	}
	number := r.PathValue("number")
	known, added := s.addComment(number, r.Header.Get("Idempotency-Key"), body.Text)
	switch {
	case !known:
		writeError(w, http.StatusNotFound, "no appeal "+number)
	case added:
		s.log.Info("comment accepted", "appeal", number)
		w.WriteHeader(http.StatusCreated)
	default: // a repeated Idempotency-Key
		w.WriteHeader(http.StatusOK)
	}
}

// addComment stores a comment unless its key was seen; an empty key is never a repeat.
func (s *Sim) addComment(number, key, text string) (known, added bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.appeals[number]
	if !ok {
		return false, false
	}
	if key != "" {
		if a.commentKeys[key] {
			return true, false
		}
		a.commentKeys[key] = true
	}
	a.comments = append(a.comments, text)
	return true, true
}

func decode(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return fmt.Errorf("body is not valid JSON: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client is gone if this fails
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
