package amqp

import (
	"context"
	"errors"
	"fmt"
	"maps"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// MigratingSuffix names the temporary queue that holds a queue's messages
// while Migrate declares it again: Q's are in Q+MigratingSuffix.
const MigratingSuffix = ".migrating"

// QueueState is what Inspect found of one queue.
type QueueState struct {
	Queue string
	// Kind is KindMissing, KindHubs (declared as the Topology declares
	// it), KindClassic (plain durable, no arguments) or KindOther.
	Kind      string
	Messages  int // ready, not counting those delivered and unacknowledged
	Consumers int
	// Migrating counts the messages in the queue's temporary queue of an
	// unfinished Migrate; -1: there is none.
	Migrating int
}

// Kinds of QueueState.
const (
	KindMissing = "missing"
	KindHubs    = "hub's"
	KindClassic = "classic"
	KindOther   = "other"
)

// Moved is what Migrate did to one queue.
type Moved struct {
	Queue string
	From  string // the kind it was (a QueueState.Kind)
	// Out and Back are how many messages moved to the temporary queue and
	// from it into the queue declared anew.
	Out, Back int
}

// session is one connection with a channel that is opened again after a
// failed declaration closes it.
type session struct {
	conn *amqp091.Connection
	ch   *amqp091.Channel
}

func (s *session) channel() (*amqp091.Channel, error) {
	if s.ch != nil && !s.ch.IsClosed() {
		return s.ch, nil
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("amqp: open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("amqp: confirm mode: %w", err)
	}
	s.ch = ch
	return ch, nil
}

// probe reports the queue's depth and consumers and whether it exists, by a
// passive declaration.
func (s *session) probe(queue string) (q amqp091.Queue, exists bool, err error) {
	ch, err := s.channel()
	if err != nil {
		return q, false, err
	}
	q, err = ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if amqpErr, ok := errors.AsType[*amqp091.Error](err); ok && amqpErr.Code == amqp091.NotFound {
		return q, false, nil
	}
	if err != nil {
		return q, false, fmt.Errorf("amqp: check queue %q: %w", queue, err)
	}
	return q, true, nil
}

// declaredAs reports whether the existing queue was declared with exactly
// args: RabbitMQ refuses an inequivalent declaration (PRECONDITION_FAILED).
func (s *session) declaredAs(queue string, args amqp091.Table) (bool, error) {
	ch, err := s.channel()
	if err != nil {
		return false, err
	}
	_, err = ch.QueueDeclare(queue, true, false, false, false, args)
	if amqpErr, ok := errors.AsType[*amqp091.Error](err); ok && amqpErr.Code == amqp091.PreconditionFailed {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("amqp: declare queue %q: %w", queue, err)
	}
	return true, nil
}

// inspect finds queue's state; it declares nothing that is missing.
func (s *session) inspect(t *Topology, queue string) (QueueState, error) {
	st := QueueState{Queue: queue, Kind: KindMissing, Migrating: -1}
	q, exists, err := s.probe(queue)
	if err != nil {
		return st, err
	}
	if exists {
		st.Messages, st.Consumers = q.Messages, q.Consumers
		st.Kind = KindOther
		if ok, err := s.declaredAs(queue, t.Arguments(queue)); err != nil {
			return st, err
		} else if ok {
			st.Kind = KindHubs
		} else if ok, err := s.declaredAs(queue, nil); err != nil {
			return st, err
		} else if ok {
			st.Kind = KindClassic
		}
	}
	tq, exists, err := s.probe(queue + MigratingSuffix)
	if err != nil {
		return st, err
	}
	if exists {
		st.Migrating = tq.Messages
	}
	return st, nil
}

// Inspect reports each queue's kind, depth and consumers, and any
// unfinished migration of it.
func (t *Topology) Inspect(ctx context.Context, url string, queues []string) ([]QueueState, error) {
	return eachQueue(ctx, url, "korpu-queues", queues, func(s *session, q string) (*QueueState, error) {
		st, err := s.inspect(t, q)
		return &st, err
	})
}

// eachQueue runs fn for each queue on one session and collects what it
// returns but nil, until an error.
func eachQueue[T any](ctx context.Context, url, name string, queues []string, fn func(s *session, q string) (*T, error)) ([]T, error) {
	var out []T
	err := oneShot(ctx, url, name, func(conn *amqp091.Connection, _ *amqp091.Channel) error {
		s := &session{conn: conn}
		for _, q := range queues {
			v, err := fn(s, q)
			if err != nil {
				return err
			}
			if v != nil {
				out = append(out, *v)
			}
		}
		return nil
	})
	return out, err
}

// ErrConsumers: a queue to migrate has consumers; the hubs must be stopped.
var ErrConsumers = errors.New("queue has consumers: stop every hub (and any other consumer) first")

// Migrate gives each queue that exists with another declaration than the
// Topology's (a classic queue, when the hub now declares quorum queues) its
// hub's declaration, with its messages, in order, with their headers and
// properties: out to a temporary quorum queue Q.migrating, Q deleted (only
// if empty) and declared again, and back. Each message is acknowledged on
// its source only once the broker confirmed it on its destination, so a
// crash at any step loses nothing and a run again resumes from what it
// finds (Q.migrating is emptied into Q whenever it exists); a crash between
// a confirmation and its acknowledgement leaves that one message twice, as
// any redelivery would (the hub's handlers are idempotent). The hubs must be
// stopped: a queue with consumers is refused (ErrConsumers). Queues that are
// missing or already the hub's, with nothing migrating, are left alone.
func (t *Topology) Migrate(ctx context.Context, url string, queues []string) ([]Moved, error) {
	return eachQueue(ctx, url, "korpu-queues-migrate", queues, func(s *session, q string) (*Moved, error) {
		return s.migrate(t, q)
	})
}

// migratingArgs is the temporary queue's declaration: quorum, so its
// messages survive a node's loss, and no limit or dead-lettering, since it
// is only ever read with basic.get.
var migratingArgs = amqp091.Table{amqp091.QueueTypeArg: amqp091.QueueTypeQuorum}

func (s *session) migrate(t *Topology, q string) (*Moved, error) {
	st, err := s.inspect(t, q)
	if err != nil {
		return nil, err
	}
	if st.Kind == KindHubs && st.Migrating < 0 || st.Kind == KindMissing && st.Migrating < 0 {
		return nil, nil
	}
	temp := q + MigratingSuffix
	if st.Consumers > 0 {
		return nil, fmt.Errorf("amqp: migrate %q: %d consumers: %w", q, st.Consumers, ErrConsumers)
	}
	m := &Moved{Queue: q, From: st.Kind}
	if st.Kind == KindClassic || st.Kind == KindOther {
		if err := s.declare(temp, migratingArgs); err != nil {
			return nil, err
		}
		if m.Out, err = s.move(q, temp); err != nil {
			return nil, err
		}
		if err := s.deleteEmpty(q, st.Kind == KindClassic); err != nil {
			return nil, err
		}
		// A channel that used the deleted queue fails publishing to its
		// successor (RabbitMQ 3.10: INTERNAL_ERROR): use a new one.
		if err := s.ch.Close(); err != nil {
			return nil, fmt.Errorf("amqp: close channel: %w", err)
		}
	}
	if err := s.declare(q, t.Arguments(q)); err != nil {
		return nil, err
	}
	if m.Back, err = s.move(temp, q); err != nil {
		return nil, err
	}
	if err := s.deleteEmpty(temp, false); err != nil {
		return nil, err
	}
	return m, nil
}

// deleteEmpty deletes queue if it holds no message. A classic queue is
// deleted if-empty, so a message published in between makes it fail rather
// than vanish; quorum queues refuse if-empty (NOT_IMPLEMENTED), so theirs
// is checked just before, which is as good while nothing publishes to them.
func (s *session) deleteEmpty(queue string, classic bool) error {
	q, exists, err := s.probe(queue)
	if err != nil || !exists {
		return err
	}
	if q.Messages > 0 {
		return fmt.Errorf("amqp: queue %q still holds %d messages: not deleted", queue, q.Messages)
	}
	ch, err := s.channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDelete(queue, false, classic, false); err != nil {
		return fmt.Errorf("amqp: delete the emptied queue %q: %w", queue, err)
	}
	return nil
}

func (s *session) declare(queue string, args amqp091.Table) error {
	ch, err := s.channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, args); err != nil {
		return fmt.Errorf("amqp: declare queue %q: %w", queue, err)
	}
	return nil
}

// move moves every message of from to the end of to, in order, one at a
// time: each acknowledged on from once confirmed on to. It returns how many.
func (s *session) move(from, to string) (int, error) {
	if _, exists, err := s.probe(to); err != nil || !exists {
		return 0, errors.Join(err, fmt.Errorf("amqp: queue %q is missing", to))
	}
	if _, exists, err := s.probe(from); err != nil || !exists {
		return 0, err // nothing to move
	}
	// After the probes, which close the channel when a queue is missing.
	ch, err := s.channel()
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		d, ok, err := ch.Get(from, false)
		if err != nil {
			return n, fmt.Errorf("amqp: get from %q: %w", from, err)
		}
		if !ok {
			return n, nil
		}
		// Not mandatory: to exists, so the broker routes it, and its
		// confirmation says it is stored.
		confirm, err := ch.PublishWithDeferredConfirm("", to, false, false, republish(d))
		if err != nil {
			return n, fmt.Errorf("amqp: publish to %q: %w", to, err)
		}
		if !confirm.Wait() {
			return n, fmt.Errorf("amqp: the broker refused message %d (%s) for %q", n+1, d.MessageId, to)
		}
		if err := d.Ack(false); err != nil {
			return n, fmt.Errorf("amqp: ack on %q: %w", from, err)
		}
		n++
	}
}

// republish is d as it was published: body, properties and headers, but the
// broker's delivery count and the user id, which the broker checks against
// the migrating user.
func republish(d amqp091.Delivery) amqp091.Publishing {
	headers := maps.Clone(d.Headers)
	delete(headers, deliveryCountHeader)
	return amqp091.Publishing{
		Headers: headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		DeliveryMode: d.DeliveryMode, Priority: d.Priority, CorrelationId: d.CorrelationId,
		ReplyTo: d.ReplyTo, Expiration: d.Expiration, MessageId: d.MessageId, Timestamp: d.Timestamp,
		Type: d.Type, AppId: d.AppId, Body: d.Body,
	}
}
