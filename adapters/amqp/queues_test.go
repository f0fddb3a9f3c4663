package amqp

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

// declaredAs reports whether queue exists with exactly args, by declaring
// it so on a channel of its own: RabbitMQ refuses (PRECONDITION_FAILED)
// a declaration inequivalent to the queue's.
func declaredAs(t *testing.T, queue string, args amqp091.Table) bool {
	t.Helper()
	conn, err := amqp091.Dial(testURL)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	require.NoError(t, err)
	_, err = ch.QueueDeclare(queue, true, false, false, false, args)
	if err == nil {
		return true
	}
	amqpErr, ok := errors.AsType[*amqp091.Error](err)
	require.True(t, ok && amqpErr.Code == amqp091.PreconditionFailed, "declare %s: %v", queue, err)
	return false
}

// roundTrip publishes one message to queue and receives it through a
// subscriber of topo, which declares queue again its own way.
func roundTrip(t *testing.T, topo *Topology, queue string) {
	t.Helper()
	sub, err := NewSubscriber(Config{URL: testURL, Topology: topo}, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	msgs, err := sub.Subscribe(ctx, queue)
	require.NoError(t, err)
	pub, err := NewPublisher(Config{URL: testURL}, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	require.NoError(t, pub.Publish(queue, message.NewMessage("m-1", []byte("hello"))))
	select {
	case msg := <-msgs:
		require.Equal(t, "hello", string(msg.Payload))
		msg.Ack()
	case <-ctx.Done():
		t.Fatalf("no message on %s", queue)
	}
}

func TestTopologyQuorumByDefault(t *testing.T) {
	t.Parallel()
	own, poison := newQueueName(t), newQueueName(t)
	topo, err := NewTopology(Quorum, 5, poison)
	require.NoError(t, err)
	require.NoError(t, topo.Declare(t.Context(), testURL, []string{own, poison}, nil))
	require.NoError(t, topo.Declare(t.Context(), testURL, []string{own, poison}, nil), "idempotent")

	require.False(t, declaredAs(t, own, nil), "not classic")
	require.True(t, declaredAs(t, own, amqp091.Table{
		"x-queue-type": "quorum", "x-delivery-limit": int64(5),
		"x-dead-letter-exchange": "", "x-dead-letter-routing-key": poison,
		"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
	}))
	require.True(t, declaredAs(t, poison, amqp091.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(PoisonDeliveryLimit)}),
		"the poison queue dead-letters nowhere and never reaches its limit")
	roundTrip(t, topo, own)
	roundTrip(t, topo, poison)
}

func TestTopologyClassic(t *testing.T) {
	t.Parallel()
	own, poison := newQueueName(t), newQueueName(t)
	topo, err := NewTopology(Classic, 5, poison)
	require.NoError(t, err)
	require.NoError(t, topo.Declare(t.Context(), testURL, []string{own, poison}, nil))
	require.True(t, declaredAs(t, own, nil))
	require.True(t, declaredAs(t, poison, nil))
	require.NoError(t, DeclareQueues(t.Context(), testURL, own), "the same declaration as DeclareQueues")
	roundTrip(t, topo, own)
}

// TestTopologyPortalQueues: the portal's queues are used as they are,
// classic or quorum with arguments of its own, and made quorum only when
// missing.
func TestTopologyPortalQueues(t *testing.T) {
	t.Parallel()
	classic, quorum, missing, poison := newQueueName(t), newQueueName(t), newQueueName(t), newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, classic))
	portalArgs := amqp091.Table{"x-queue-type": "quorum", "x-delivery-limit": int64(3)}
	require.True(t, declaredAs(t, quorum, portalArgs))

	topo, err := NewTopology(Quorum, 20, poison)
	require.NoError(t, err)
	require.NoError(t, topo.Declare(t.Context(), testURL, []string{poison}, []string{classic, missing, quorum}))
	require.True(t, declaredAs(t, classic, nil), "still classic")
	require.True(t, declaredAs(t, quorum, portalArgs), "still the portal's")
	require.True(t, declaredAs(t, missing, topo.Arguments(missing)), "created as a hub queue")
	for _, q := range []string{classic, quorum, missing} {
		roundTrip(t, topo, q)
	}
}

func TestTopologyRefusesAClassicHubQueue(t *testing.T) {
	t.Parallel()
	own, poison := newQueueName(t), newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, own))
	topo, err := NewTopology(Quorum, 20, poison)
	require.NoError(t, err)
	err = topo.Declare(t.Context(), testURL, []string{poison, own}, nil)
	require.ErrorContains(t, err, own)
	require.ErrorContains(t, err, "korpu queues migrate")
}

func TestNewTopologyRefuses(t *testing.T) {
	t.Parallel()
	_, err := NewTopology("stream", 20, "p")
	require.ErrorContains(t, err, "stream")
	_, err = NewTopology(Quorum, 1, "p")
	require.ErrorContains(t, err, "below 2")
	_, err = NewTopology(Quorum, 20, "")
	require.ErrorContains(t, err, "poison")
}

// TestQuorumDeliveryLimit: a message on a hub quorum queue carries the
// broker's count of its earlier deliveries (x-delivery-count); one whose
// consumers keep losing their connection while holding it is delivered
// x-delivery-limit+1 times (the limit counts returns), then dead-lettered
// to the poison queue with the broker's reason instead of vanishing.
func TestQuorumDeliveryLimit(t *testing.T) {
	t.Parallel()
	own, poison := newQueueName(t), newQueueName(t)
	const limit = 2
	topo, err := NewTopology(Quorum, limit, poison)
	require.NoError(t, err)
	require.NoError(t, topo.Declare(t.Context(), testURL, []string{own, poison}, nil))
	pub, err := NewPublisher(Config{URL: testURL}, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	require.NoError(t, pub.Publish(own, message.NewMessage("m-1", []byte("doomed"))))

	for delivery := range limit + 1 {
		conn, err := amqp091.Dial(testURL)
		require.NoError(t, err)
		ch, err := conn.Channel()
		require.NoError(t, err)
		d, ok, err := ch.Get(own, false)
		require.NoError(t, err)
		require.True(t, ok, "delivery %d", delivery+1)
		msg, err := Marshaler{}.Unmarshal(d)
		require.NoError(t, err)
		// 3.10 says 0 on the first delivery; other versions may leave it out.
		if count := msg.Metadata.Get("x-delivery-count"); delivery > 0 || count != "" {
			require.Equal(t, strconv.Itoa(delivery), count)
		}
		require.NoError(t, conn.Close(), "the consumer's connection goes while it holds the message")
	}

	sub, err := NewSubscriber(Config{URL: testURL, Topology: topo}, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	msgs, err := sub.Subscribe(ctx, poison)
	require.NoError(t, err)
	select {
	case msg := <-msgs:
		require.Equal(t, "doomed", string(msg.Payload))
		require.Equal(t, "delivery_limit", msg.Metadata.Get("x-first-death-reason"))
		require.Equal(t, own, msg.Metadata.Get("x-first-death-queue"))
		require.Contains(t, msg.Metadata.Get("x-death"), `"reason":"delivery_limit"`)
		msg.Ack()
	case <-ctx.Done():
		t.Fatal("nothing dead-lettered to the poison queue")
	}
}
