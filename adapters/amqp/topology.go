package amqp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// handshakeTimeout bounds the AMQP handshake when ctx has no earlier
// deadline, as amqp091's own default dialer does.
const handshakeTimeout = 30 * time.Second

// dial opens a connection named name (as the broker's management UI shows
// it) to one of the broker's nodes. ctx bounds the handshake only; the
// connection outlives it.
func dial(ctx context.Context, broker, name string) (*amqp091.Connection, error) {
	n, err := parseNodes(broker)
	if err != nil {
		return nil, err
	}
	conn, err := amqp091.DialConfig(n.plain, n.amqpConfig(ctx, name))
	if err != nil {
		// amqp091's errors name the host and port, never the credentials.
		return nil, fmt.Errorf("amqp: dial: %w", err)
	}
	return conn, nil
}

// do runs fn, whose amqp091 calls ignore contexts, and gives up when ctx ends
// by closing conn, which makes fn's pending call return.
func do(ctx context.Context, conn *amqp091.Connection, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = conn.Close()
		return errors.Join(ctx.Err(), <-done)
	}
}

// oneShot dials, runs fn on a channel of conn and closes everything.
func oneShot(ctx context.Context, url, name string, fn func(conn *amqp091.Connection, ch *amqp091.Channel) error) error {
	conn, err := dial(ctx, url, name)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	return do(ctx, conn, func() error {
		ch, err := conn.Channel()
		if err != nil {
			return fmt.Errorf("amqp: open channel: %w", err)
		}
		return fn(conn, ch)
	})
}

// WaitForBroker dials the broker (any of its nodes) with exponential
// backoff until a connection opens or ctx ends; it closes the connection at
// once. Constructors such as NewPublisher dial only once, so the hub calls
// this first at start-up.
func WaitForBroker(ctx context.Context, url string) error {
	if _, err := parseNodes(url); err != nil {
		return err
	}
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		conn, err := dial(ctx, url, "korpu-wait")
		if err != nil {
			last = err
			return struct{}{}, err
		}
		return struct{}{}, conn.Close()
	},
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     200 * time.Millisecond,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         5 * time.Second,
		}),
		backoff.WithMaxElapsedTime(0), // ctx alone decides how long to wait
	)
	if err != nil {
		if last != nil && !errors.Is(err, last) {
			return fmt.Errorf("amqp: broker not reachable (%w): %w", last, err)
		}
		return fmt.Errorf("amqp: broker not reachable: %w", err)
	}
	return nil
}

// DeclareQueues declares each queue durable, not exclusive, not auto-deleted
// and with no arguments: the declaration watermill-amqp makes with
// SubscriberConfig, and the plain one the portal may already have made for
// its own queues. Declaring an existing queue the same way is a no-op. A
// queue that exists with other flags or arguments is an error naming it
// (RabbitMQ answers PRECONDITION_FAILED); the queues after it are not declared.
func DeclareQueues(ctx context.Context, url string, queues ...string) error {
	return oneShot(ctx, url, "korpu-topology", func(_ *amqp091.Connection, ch *amqp091.Channel) error {
		for _, q := range queues {
			if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
				if amqpErr, ok := errors.AsType[*amqp091.Error](err); ok && amqpErr.Code == amqp091.PreconditionFailed {
					return fmt.Errorf("amqp: queue %q already exists with other flags or arguments than durable with none; "+
						"delete it or align its declaration: %w", q, err)
				}
				return fmt.Errorf("amqp: declare queue %q: %w", q, err)
			}
		}
		return nil
	})
}

// PurgeAndDelete deletes each queue with the messages it holds, whatever its
// consumers; a missing queue is not an error. It is meant for tests' cleanup.
func PurgeAndDelete(ctx context.Context, url string, queues ...string) error {
	return oneShot(ctx, url, "korpu-cleanup", func(_ *amqp091.Connection, ch *amqp091.Channel) error {
		for _, q := range queues {
			if _, err := ch.QueueDelete(q, false, false, false); err != nil {
				return fmt.Errorf("amqp: delete queue %q: %w", q, err)
			}
		}
		return nil
	})
}
