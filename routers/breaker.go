package routers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// guardedDistrict puts a circuit breaker in front of a district's system:
// after repeated transient failures it stops calling (open), lets one probe
// through after a cool-down (half-open), and closes again when the probe
// succeeds. While open, deliveries are postponed without a call, so a dead
// district costs the hub almost nothing and its backlog waits in the ledger.
type guardedDistrict struct {
	District
	code      string
	cooldown  time.Duration
	now       func() time.Time
	openUntil atomic.Int64 // Unix nanoseconds on now's clock: when the open breaker lets a probe through
	breaker   *gobreaker.CircuitBreaker[string]
}

// newGuardedDistrict guards d; recovered is called when its breaker closes
// again after an outage.
func newGuardedDistrict(code string, d District, failures int, cooldown time.Duration, now func() time.Time, m *Metrics, logger *slog.Logger, recovered func(code string)) *guardedDistrict {
	m.BreakerState.WithLabelValues(code).Set(float64(gobreaker.StateClosed))
	g := &guardedDistrict{District: d, code: code, cooldown: cooldown, now: now}
	g.breaker = gobreaker.NewCircuitBreaker[string](gobreaker.Settings{
		Name:        code,
		MaxRequests: 1,
		Timeout:     cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return int(c.ConsecutiveFailures) >= failures },
		// A refusal (4xx) proves the district is up; only transient failures count.
		IsSuccessful: func(err error) bool { return err == nil || IsPermanent(err) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			m.BreakerState.WithLabelValues(name).Set(float64(to))
			switch to {
			case gobreaker.StateOpen:
				g.openUntil.Store(now().Add(cooldown).UnixNano())
				m.BreakerTrips.WithLabelValues(name).Inc()
			case gobreaker.StateClosed:
				recovered(name)
			}
			logger.Warn("district circuit breaker", "district", name, "from", from.String(), "to", to.String())
		},
	})
	return g
}

// available reports whether calls flow: the breaker is closed. While it is
// open or probing, the district's backlog stays parked in the ledger.
func (g *guardedDistrict) available() bool { return g.breaker.State() == gobreaker.StateClosed }

// Submit implements District through the breaker.
func (g *guardedDistrict) Submit(ctx context.Context, s Submission) (string, error) {
	ref, err := g.breaker.Execute(func() (string, error) { return g.District.Submit(ctx, s) })
	return ref, g.translate(err)
}

// Comment implements District through the breaker.
func (g *guardedDistrict) Comment(ctx context.Context, c CommentSubmission) error {
	_, err := g.breaker.Execute(func() (string, error) { return "", g.District.Comment(ctx, c) })
	return g.translate(err)
}

// ErrBreakerOpen: the hub did not call the district, its circuit breaker is
// open. Such a postponement costs a delivery no attempt of its retry budget,
// only time: a long outage must not exhaust appeals that were never tried.
var ErrBreakerOpen = errors.New("circuit breaker open")

// translate makes a refusal by the breaker itself a hold-off: until the
// breaker lets a probe through, or, while a probe is out, one cool-down
// (the probe's success makes the backlog due at once anyway).
func (g *guardedDistrict) translate(err error) error {
	if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
		return err
	}
	wait := g.cooldown
	if errors.Is(err, gobreaker.ErrOpenState) {
		wait = min(max(time.Unix(0, g.openUntil.Load()).Sub(g.now()), 0), g.cooldown)
	}
	return &HoldOffError{Err: fmt.Errorf("district %s: %w: %w", g.code, ErrBreakerOpen, err), Wait: wait}
}
