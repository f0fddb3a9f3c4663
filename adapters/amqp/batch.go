package amqp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Outgoing is one message for BatchPublisher, with the queue it goes to.
type Outgoing struct {
	Queue   string
	Message *message.Message
}

// BatchPublisher publishes batches on one channel in confirm mode and
// returns once the broker has confirmed every message of the batch. The
// confirm round trip (and the broker's fsync behind it) is paid once per
// batch rather than once per message, as watermill-amqp's publisher does;
// that is what lets one outbox relay keep up with the hub's intake. Messages
// leave in the order given. It redials by itself after a failure.
type BatchPublisher struct {
	url       string
	marshaler Marshaler

	mu   sync.Mutex
	conn *amqp091.Connection
	ch   *amqp091.Channel
}

// NewBatchPublisher returns a publisher that dials url on first use.
func NewBatchPublisher(url string) *BatchPublisher { return &BatchPublisher{url: url} }

// Publish sends every message to the default exchange with its queue as the
// routing key, persistent, and waits for all confirms. On any error some
// messages may have reached the broker: the caller repeats the whole batch,
// and the consumers, being idempotent, absorb the repeats.
func (p *BatchPublisher) Publish(ctx context.Context, batch []Outgoing) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.open(ctx); err != nil {
		return err
	}
	confirms := make([]*amqp091.DeferredConfirmation, 0, len(batch))
	for _, o := range batch {
		pub, err := p.marshaler.Marshal(o.Message)
		if err != nil {
			return fmt.Errorf("amqp: marshal %s: %w", o.Message.UUID, err)
		}
		dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, "", o.Queue, false, false, pub)
		if err != nil {
			p.reset()
			return fmt.Errorf("amqp: publish to %s: %w", o.Queue, err)
		}
		confirms = append(confirms, dc)
	}
	for _, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			p.reset()
			return fmt.Errorf("amqp: wait for confirm: %w", err)
		}
		if !acked {
			// A quorum queue nacks while it has no leader (a node lost): the
			// next batch starts on a new connection, perhaps to another
			// node, rather than on the channel the broker just refused.
			p.reset()
			return errors.New("amqp: the broker refused a message (nack)")
		}
	}
	return nil
}

// PublishTo publishes msgs to one queue, as Publish does.
func (p *BatchPublisher) PublishTo(ctx context.Context, queue string, msgs ...*message.Message) error {
	batch := make([]Outgoing, len(msgs))
	for i, m := range msgs {
		batch[i] = Outgoing{Queue: queue, Message: m}
	}
	return p.Publish(ctx, batch)
}

func (p *BatchPublisher) open(ctx context.Context) error {
	if p.ch != nil && !p.ch.IsClosed() {
		return nil
	}
	p.reset()
	conn, err := dial(ctx, p.url, "korpu-relay")
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("amqp: open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = conn.Close()
		return fmt.Errorf("amqp: confirm mode: %w", err)
	}
	p.conn, p.ch = conn, ch
	return nil
}

func (p *BatchPublisher) reset() {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.conn, p.ch = nil, nil
}

// Close closes the connection.
func (p *BatchPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reset()
	return nil
}
