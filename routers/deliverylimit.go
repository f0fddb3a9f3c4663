package routers

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// DeliveryCountHeader is where a quorum queue says how many times it
// delivered a message before this delivery (absent on the first).
const DeliveryCountHeader = "x-delivery-count"

// Bounds of the wait before a transient failure's message goes back to its
// queue (see limitDeliveries).
const (
	defaultNackBackoff = 2 * time.Second
	// maxNackBackoff caps the wait: the consumer holds the message
	// meanwhile, and the broker's consumer_timeout must never see it.
	maxNackBackoff = 30 * time.Second
	// maxCounted bounds the messages whose failures a hub counts itself.
	maxCounted = 10_000
)

// DeliveryLimitError is a transient failure on the last delivery the
// message's queue allows (Config.DeliveryLimit): the hub poisons the message
// itself, so its letter keeps the reason instead of the broker dropping or
// dead-lettering it without one.
type DeliveryLimitError struct {
	Deliveries int
	Last       error
}

func (e *DeliveryLimitError) Error() string {
	return fmt.Sprintf("delivered %d times; last failure: %v", e.Deliveries, e.Last)
}

func (e *DeliveryLimitError) Unwrap() error { return e.Last }

// deliveryCounter counts the transient failures of each message in this
// process. RabbitMQ 4.3+ no longer counts a nack towards a quorum queue's
// x-delivery-count, so the header alone would let a message that fails for
// ever loop for ever; a message the hub has seen fail is counted here too.
type deliveryCounter struct {
	mu     sync.Mutex
	failed map[[sha256.Size]byte]int
}

func messageKey(msg *message.Message) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range []string{message.SubscribeTopicFromCtx(msg.Context()), msg.UUID, string(msg.Payload)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// deliveries is which delivery of msg this is, at least 1: the broker's
// count or the hub's own, whichever is higher.
func (c *deliveryCounter) deliveries(key [sha256.Size]byte, msg *message.Message) int {
	n, err := strconv.Atoi(msg.Metadata.Get(DeliveryCountHeader))
	if err != nil || n < 0 {
		n = 0 // first delivery, or a classic queue; anyone can publish a header
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(n, c.failed[key]) + 1
}

func (c *deliveryCounter) fail(key [sha256.Size]byte, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.failed[key]; !ok && len(c.failed) >= maxCounted {
		for k := range c.failed { // forget one: the broker's count remains
			delete(c.failed, k)
			break
		}
	}
	c.failed[key] = n
}

// any reports whether some message's failures are counted.
func (c *deliveryCounter) any() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.failed) > 0
}

func (c *deliveryCounter) forget(key [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.failed, key)
}

// limitDeliveries stops a message failing transiently from looping: on the
// last delivery its queue allows it becomes a *DeliveryLimitError for the
// poison queue; before, it waits in proportion to its delivery count
// (NackBackoff per delivery, at most maxNackBackoff) before going back to its
// queue, so that an outage of the hub's dependencies (a database restart or
// failover, a broker node lost) costs no healthy message: with the default
// limit of 20 and 2 s, about 6 minutes of failing. The poison queue's own
// messages are never poisoned again, only delayed.
func (h *Hub) limitDeliveries(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := next(msg)
		if err == nil {
			// Hashing the payload only when some message has failed keeps
			// it off the path of the messages that succeed.
			if h.counted.any() {
				h.counted.forget(messageKey(msg))
			}
			return out, nil
		}
		key := messageKey(msg)
		n := h.counted.deliveries(key, msg)
		if h.cfg.DeliveryLimit > 0 && n >= h.cfg.DeliveryLimit && message.SubscribeTopicFromCtx(msg.Context()) != h.cfg.Topics.Poison {
			h.counted.forget(key)
			return nil, &DeliveryLimitError{Deliveries: n, Last: err}
		}
		h.counted.fail(key, n)
		wait := time.NewTimer(min(time.Duration(n)*h.cfg.NackBackoff, maxNackBackoff))
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-msg.Context().Done(): // the router stops: nack at once
		case <-h.gate.draining: // nor hold up a stop
		}
		return nil, err
	}
}

// poisonable reports whether err sends its message to the poison queue.
func poisonable(err error) bool {
	var limited *DeliveryLimitError
	return IsPermanent(err) || errors.As(err, &limited) || isPanic(err)
}

func isPanic(err error) bool {
	var panicked middleware.RecoveredPanicError
	return errors.As(err, &panicked)
}
