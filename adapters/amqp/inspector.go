package amqp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Errors of the Inspector.
var (
	// ErrQueueNotFound: the broker has no queue of that name.
	ErrQueueNotFound = errors.New("queue not found")
	// ErrInspectorClosed: Close was called.
	ErrInspectorClosed = errors.New("amqp inspector closed")
)

// Inspector reads queue depths and checks that the broker answers, for
// metrics and readiness. It keeps one connection, dialled on first use and
// again after it breaks, and is safe for concurrent use (calls are serialised).
type Inspector struct {
	url string

	mu     sync.Mutex
	conn   *amqp091.Connection // nil until dialled or after a failure
	ch     *amqp091.Channel    // nil until opened or after a failure
	closed bool
}

// NewInspector returns an Inspector of the broker at url. It does not dial:
// the broker may be down at start-up, which Ping then reports.
func NewInspector(url string) (*Inspector, error) {
	if _, err := parseNodes(url); err != nil {
		return nil, err
	}
	return &Inspector{url: url}, nil
}

// Depth returns how many messages in queue are ready for delivery (those
// delivered but not yet acknowledged are not counted) and how many consumers
// it has, by a passive declare. A missing queue is ErrQueueNotFound; the
// Inspector keeps working afterwards.
func (i *Inspector) Depth(ctx context.Context, queue string) (messages, consumers int, err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.connect(ctx); err != nil {
		return 0, 0, err
	}
	if i.ch == nil || i.ch.IsClosed() {
		err := do(ctx, i.conn, func() (err error) {
			i.ch, err = i.conn.Channel()
			return err
		})
		if err != nil {
			i.ch = nil
			return 0, 0, fmt.Errorf("amqp: open channel: %w", err)
		}
	}
	var q amqp091.Queue
	err = do(ctx, i.conn, func() (err error) {
		q, err = i.ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		return err
	})
	if err != nil {
		// A failed declare closes the channel on the broker's side (a
		// missing queue with 404 NOT_FOUND); after a cancelled call its state
		// is unknown. Either way, open a new one next time.
		_ = i.ch.Close()
		i.ch = nil
		if amqpErr, ok := errors.AsType[*amqp091.Error](err); ok && amqpErr.Code == amqp091.NotFound {
			return 0, 0, fmt.Errorf("amqp: queue %q: %w", queue, ErrQueueNotFound)
		}
		return 0, 0, fmt.Errorf("amqp: inspect queue %q: %w", queue, err)
	}
	return q.Messages, q.Consumers, nil
}

// Ping reports whether the broker answers: it dials if needed, then opens and
// closes a channel, which takes a round trip to the broker.
func (i *Inspector) Ping(ctx context.Context) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.connect(ctx); err != nil {
		return err
	}
	err := do(ctx, i.conn, func() error {
		ch, err := i.conn.Channel()
		if err != nil {
			return err
		}
		return ch.Close()
	})
	if err != nil {
		return fmt.Errorf("amqp: ping: %w", err)
	}
	return nil
}

// Close closes the connection; the Inspector is unusable afterwards.
func (i *Inspector) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closed = true
	conn := i.conn
	i.conn, i.ch = nil, nil
	if conn == nil || conn.IsClosed() {
		return nil
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("amqp: close inspector: %w", err)
	}
	return nil
}

// connect makes sure i.conn is open, dialling again when the broker or an
// ended context (see do) closed it. The caller holds i.mu.
func (i *Inspector) connect(ctx context.Context) error {
	if i.closed {
		return ErrInspectorClosed
	}
	if i.conn != nil && !i.conn.IsClosed() {
		return nil
	}
	i.conn, i.ch = nil, nil
	conn, err := dial(ctx, i.url, "korpu-inspector")
	if err != nil {
		return err
	}
	i.conn = conn
	return nil
}
