package routers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// errDraining is what a handler returns for a message that reached a
// draining hub: the message goes back to its queue untouched, for another
// hub (or this one, restarted) to take.
var errDraining = errors.New("hub draining: message returned to its queue")

// drainGate counts the messages at work and, once closed, admits no more.
type drainGate struct {
	mu     sync.Mutex
	closed bool
	busy   int
	idle   chan struct{} // closed when the gate is closed and nothing is at work
	// draining is closed with the gate: work that only waits (a failed
	// delivery's wait before its nack) ends at once.
	draining chan struct{}
}

func newDrainGate() *drainGate {
	return &drainGate{idle: make(chan struct{}), draining: make(chan struct{})}
}

func (g *drainGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.busy++
	return true
}

func (g *drainGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.busy--
	if g.closed && g.busy == 0 {
		close(g.idle)
	}
}

// close admits no more work and returns a channel closed once the work
// under way is done.
func (g *drainGate) close() (<-chan struct{}, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		close(g.draining)
		if g.busy == 0 {
			close(g.idle)
		}
	}
	return g.idle, g.busy
}

// admit is the outermost middleware: it lets a message's work run unless
// the hub drains. A message that arrives while draining is held, untouched,
// until the router stops and cancels its context, then returned to its
// queue: held, so its consumer takes no next message meanwhile.
func (h *Hub) admit(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		if !h.gate.enter() {
			<-msg.Context().Done()
			// Wrapping context.Canceled keeps the router from logging an
			// error for an ordinary stop.
			return nil, fmt.Errorf("%w: %w", errDraining, msg.Context().Err())
		}
		defer h.gate.leave()
		return next(msg)
	}
}

// Drain stops the handlers from taking new work and waits until the work
// under way is done, or ctx ends; then Router.Close may stop the router.
// Router.Close alone would not do: it nacks every message at once, its
// work still running, and with several hubs another one takes the message
// and does the same work again (a second call to the district) while this
// one finishes it.
func (h *Hub) Drain(ctx context.Context) error {
	idle, busy := h.gate.close()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain: %d messages were at work when it began, some still are: %w", busy, ctx.Err())
	}
}
