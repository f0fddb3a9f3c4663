package amqp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v2/pkg/amqp"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// QueueType is the kind of queue the hub declares.
type QueueType string

// Queue types.
const (
	// Quorum queues are replicated across a cluster's nodes (Raft) and
	// count deliveries (x-delivery-count, x-delivery-limit).
	Quorum QueueType = "quorum"
	// Classic queues are the plain durable queues, with no arguments: what
	// a single node needs.
	Classic QueueType = "classic"
)

// Quorum-queue arguments amqp091 has no name for.
const (
	deliveryLimitArg = "x-delivery-limit"
)

// PoisonDeliveryLimit is the poison queue's x-delivery-limit: so high that it
// is never reached, since the poison queue has nowhere further to send a
// message. Explicit because RabbitMQ 4 gives quorum queues a default limit
// of 20 (and 3.x refuses -1, 4's "no limit").
const PoisonDeliveryLimit = math.MaxInt32

// Topology is how the hub declares its queues, and how each queue was
// found or declared, so that watermill-amqp's subscriber, which declares its
// queue again on every Subscribe and reconnect, declares it the same way and
// never meets PRECONDITION_FAILED. Safe for concurrent use.
type Topology struct {
	typ           QueueType
	deliveryLimit int
	poison        string

	mu sync.Mutex
	// declared maps each queue Declare handled to how to declare it again.
	declared map[string]declaration
}

type declaration struct {
	args    amqp091.Table
	passive bool // someone else's existing queue: declared as it is
}

// NewTopology returns the topology of hub queues of type typ. With Quorum,
// every queue but poison gets x-delivery-limit deliveryLimit and dead-letters
// to poison (at least once), so a message the broker gives up on lands there
// instead of vanishing; poison gets a limit it never reaches. The broker's
// limit counts returns, so it dead-letters on the (deliveryLimit+1)th
// return: one delivery beyond the hub's own limit, which poisons a message
// failing on its deliveryLimit-th delivery with the failure as reason. The
// broker thus dead-letters only what the hub never saw fail (consumers lost
// while holding it).
func NewTopology(typ QueueType, deliveryLimit int, poison string) (*Topology, error) {
	switch {
	case typ != Quorum && typ != Classic:
		return nil, fmt.Errorf("amqp: queue type %q is neither %s nor %s", typ, Quorum, Classic)
	case typ == Quorum && deliveryLimit < 2:
		return nil, fmt.Errorf("amqp: delivery limit %d is below 2", deliveryLimit)
	case typ == Quorum && poison == "":
		return nil, errors.New("amqp: quorum queues need the poison queue to dead-letter to")
	}
	return &Topology{typ: typ, deliveryLimit: deliveryLimit, poison: poison, declared: map[string]declaration{}}, nil
}

// Arguments are the x-arguments a hub queue named queue is declared with
// (nil for classic queues).
func (t *Topology) Arguments(queue string) amqp091.Table {
	if t.typ == Classic {
		return nil
	}
	if queue == t.poison {
		return amqp091.Table{amqp091.QueueTypeArg: amqp091.QueueTypeQuorum, deliveryLimitArg: int64(PoisonDeliveryLimit)}
	}
	return amqp091.Table{
		amqp091.QueueTypeArg:        amqp091.QueueTypeQuorum,
		deliveryLimitArg:            int64(t.deliveryLimit),
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": t.poison,
		// At least once: the message leaves its queue only once the poison
		// queue has it. RabbitMQ requires reject-publish with it, which
		// changes nothing here: the hub's queues have no length limit.
		"x-dead-letter-strategy": "at-least-once",
		amqp091.QueueOverflowArg: amqp091.QueueOverflowRejectPublish,
	}
}

// Declare declares the hub's own queues with their Arguments, then the
// others' queues (the portal's): each is used as it is when it exists,
// whatever its type and arguments, and declared with the hub's Arguments
// only when missing. A hub queue that exists with other arguments (a classic
// queue from before queue_type quorum, say) is an error naming it.
func (t *Topology) Declare(ctx context.Context, url string, own, others []string) error {
	return oneShot(ctx, url, "korpu-topology", func(conn *amqp091.Connection, ch *amqp091.Channel) error {
		for _, q := range own {
			if err := t.declare(ch, q); err != nil {
				return err
			}
		}
		for _, q := range others {
			_, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
			if err == nil {
				t.remember(q, declaration{passive: true})
				continue
			}
			if amqpErr, ok := errors.AsType[*amqp091.Error](err); !ok || amqpErr.Code != amqp091.NotFound {
				return fmt.Errorf("amqp: check queue %q: %w", q, err)
			}
			// The failed passive declare closed the channel.
			if ch, err = conn.Channel(); err != nil {
				return fmt.Errorf("amqp: open channel: %w", err)
			}
			if err := t.declare(ch, q); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *Topology) declare(ch *amqp091.Channel, q string) error {
	args := t.Arguments(q)
	if _, err := ch.QueueDeclare(q, true, false, false, false, args); err != nil {
		if amqpErr, ok := errors.AsType[*amqp091.Error](err); ok && amqpErr.Code == amqp091.PreconditionFailed {
			return fmt.Errorf("amqp: queue %q exists with another type or other arguments than the hub's (%s, %v): "+
				"run korpu queues migrate with the hubs stopped, or set amqp.queue_type to what it is: %w", q, t.typ, args, err)
		}
		return fmt.Errorf("amqp: declare queue %q: %w", q, err)
	}
	t.remember(q, declaration{args: args})
	return nil
}

func (t *Topology) remember(q string, d declaration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.declared[q] = d
}

// declaration is how queue is to be declared again: as Declare declared or
// found it, else as a hub queue.
func (t *Topology) declaration(queue string) declaration {
	t.mu.Lock()
	d, ok := t.declared[queue]
	t.mu.Unlock()
	if ok {
		d.args = maps.Clone(d.args)
		return d
	}
	return declaration{args: t.Arguments(queue)}
}

// topologyBuilder declares a subscriber's queue as its Topology says.
type topologyBuilder struct{ t *Topology }

var _ wamqp.TopologyBuilder = topologyBuilder{}

func (b topologyBuilder) BuildTopology(ch *amqp091.Channel, queue, exchange string, cfg wamqp.Config, logger watermill.LoggerAdapter) error {
	if exchange != "" {
		return fmt.Errorf("amqp: topology: exchange %q: the hub uses the default exchange only", exchange)
	}
	d := b.t.declaration(queue)
	var err error
	if d.passive {
		_, err = ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	} else {
		_, err = ch.QueueDeclare(queue, true, false, false, false, d.args)
	}
	if err != nil {
		return fmt.Errorf("amqp: declare queue %q: %w", queue, err)
	}
	return nil
}

// ExchangeDeclare is never called: the hub publishes through the default exchange.
func (topologyBuilder) ExchangeDeclare(*amqp091.Channel, string, wamqp.Config) error {
	return errors.New("amqp: topology: the hub declares no exchanges")
}
