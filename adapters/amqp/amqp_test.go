package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v2/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

// testURL is the local RabbitMQ every integration test uses.
const testURL = "amqp://guest:guest@127.0.0.1:5672/"

// deadURL points at a port where no broker listens.
const deadURL = "amqp://guest:guest@127.0.0.1:1/"

const waitFor = 10 * time.Second

// newQueueName returns a name no other test uses and deletes that queue
// when the test ends.
func newQueueName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test." + strings.ToLower(strings.ReplaceAll(t.Name(), "/", ".")) + "." + hex.EncodeToString(b)
	cleanupQueues(t, name)
	return name
}

func cleanupQueues(t *testing.T, queues ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		require.NoError(t, PurgeAndDelete(ctx, testURL, queues...))
	})
}

// rawChannel is an amqp091 channel in confirm mode, outside Watermill.
func rawChannel(t *testing.T) *amqp091.Channel {
	t.Helper()
	conn, err := amqp091.Dial(testURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	require.NoError(t, err)
	require.NoError(t, ch.Confirm(false))
	return ch
}

func rawPublish(t *testing.T, ch *amqp091.Channel, queue string, p amqp091.Publishing) {
	t.Helper()
	conf, err := ch.PublishWithDeferredConfirmWithContext(t.Context(), "", queue, false, false, p)
	require.NoError(t, err)
	ok, err := conf.WaitContext(t.Context())
	require.NoError(t, err)
	require.True(t, ok, "broker confirms")
}

// rawGet polls queue with basic.get until a message arrives.
func rawGet(t *testing.T, ch *amqp091.Channel, queue string) amqp091.Delivery {
	t.Helper()
	var d amqp091.Delivery
	require.Eventually(t, func() bool {
		var ok bool
		var err error
		d, ok, err = ch.Get(queue, true)
		require.NoError(t, err)
		return ok
	}, waitFor, 20*time.Millisecond)
	return d
}

func receive(t *testing.T, msgs <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg := <-msgs:
		require.NotNil(t, msg)
		msg.Ack()
		return msg
	case <-time.After(waitFor):
		t.Fatal("no message received")
		return nil
	}
}

func newPubSub(t *testing.T) (message.Publisher, message.Subscriber) {
	t.Helper()
	return newPubSubOn(t, testURL)
}

// newPubSubOn is newPubSub on the broker at broker.
func newPubSubOn(t *testing.T, broker string) (message.Publisher, message.Subscriber) {
	t.Helper()
	cfg := Config{URL: broker}
	pub, err := NewPublisher(cfg, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pub.Close()) })
	sub, err := NewSubscriber(cfg, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sub.Close()) })
	return pub, sub
}

// TestPublishSetsProperties: the portal reads message_id and correlation_id
// as AMQP properties, not headers.
func TestPublishSetsProperties(t *testing.T) {
	t.Parallel()
	q := newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	pub, _ := newPubSub(t)

	msg := message.NewMessage("uuid-1", []byte(`{"status":"registered"}`))
	msg.Metadata = message.Metadata{"message_id": "evt-1", "correlation_id": "req-1", "content_type": "application/json", "handler": "status"}
	before := time.Now().Truncate(time.Second) // AMQP timestamps are whole seconds
	require.NoError(t, pub.Publish(q, msg))

	d := rawGet(t, rawChannel(t), q)
	require.Equal(t, "evt-1", d.MessageId)
	require.Equal(t, "req-1", d.CorrelationId)
	require.Equal(t, "application/json", d.ContentType)
	require.Equal(t, amqp091.Persistent, d.DeliveryMode)
	require.WithinRange(t, d.Timestamp, before, time.Now())
	require.Equal(t, amqp091.Table{"handler": "status", UUIDHeader: "uuid-1"}, d.Headers)
	require.Equal(t, `{"status":"registered"}`, string(d.Body))
}

// TestSubscribeForeignMessages: messages from other producers, with headers
// that are not strings, reach the handler instead of nack-looping.
func TestSubscribeForeignMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// send puts a message on queue and returns the metadata expected
		// besides message_id.
		send func(t *testing.T, ch *amqp091.Channel, queue string) message.Metadata
	}{
		{
			name: "IntAndTableHeaders",
			send: func(t *testing.T, ch *amqp091.Channel, queue string) message.Metadata {
				rawPublish(t, ch, queue, amqp091.Publishing{
					MessageId: "req-1", Body: []byte("{}"),
					Headers: amqp091.Table{
						"x-signature": "sha256=ab", "x-retries": int32(2),
						"x-meta": amqp091.Table{"b": "two", "a": int64(1)},
					},
				})
				return message.Metadata{"x-signature": "sha256=ab", "x-retries": "2", "x-meta": `{"a":1,"b":"two"}`}
			},
		},
		{
			name: "DeadLetteredWithXDeath",
			send: func(t *testing.T, ch *amqp091.Channel, queue string) message.Metadata {
				// A queue without consumers whose messages expire at once into queue.
				parking := newQueueName(t)
				_, err := ch.QueueDeclare(parking, true, false, false, false, amqp091.Table{
					"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue,
				})
				require.NoError(t, err)
				rawPublish(t, ch, parking, amqp091.Publishing{MessageId: "req-1", Expiration: "0", Body: []byte("{}")})
				return nil // x-death and friends are checked below
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newQueueName(t)
			_, sub := newPubSub(t)
			msgs, err := sub.Subscribe(t.Context(), q)
			require.NoError(t, err)

			want := tt.send(t, rawChannel(t), q)
			msg := receive(t, msgs)

			require.Equal(t, "req-1", msg.UUID, "UUID from MessageId")
			require.Equal(t, "req-1", msg.Metadata.Get(MetadataMessageID))
			require.Equal(t, "{}", string(msg.Payload))
			if want != nil {
				want[MetadataMessageID] = "req-1"
				require.Equal(t, want, msg.Metadata)
				return
			}
			death := msg.Metadata.Get("x-death")
			require.Contains(t, death, `"reason":"expired"`)
			require.Contains(t, death, `"count":1`)
			require.Contains(t, death, `"routing-keys":[`)
		})
	}
}

// TestDeclareQueuesMatchesWatermill: queues declared by DeclareQueues are the
// queues watermill-amqp declares itself, so both may run in any order.
func TestDeclareQueuesMatchesWatermill(t *testing.T) {
	t.Parallel()
	q := newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	require.NoError(t, DeclareQueues(t.Context(), testURL, q), "idempotent")

	pub, sub := newPubSub(t)
	msgs, err := sub.Subscribe(t.Context(), q) // declares q again, its own way
	require.NoError(t, err)
	require.NoError(t, pub.Publish(q, message.NewMessage("uuid-1", []byte("hello"))))
	msg := receive(t, msgs)
	require.Equal(t, "uuid-1", msg.UUID)

	require.NoError(t, DeclareQueues(t.Context(), testURL, q), "after watermill declared it")
}

func TestDeclareQueuesMismatch(t *testing.T) {
	t.Parallel()
	plain, other := newQueueName(t), newQueueName(t)
	_, err := rawChannel(t).QueueDeclare(other, true, false, false, false, amqp091.Table{"x-max-length": int32(10)})
	require.NoError(t, err)

	err = DeclareQueues(t.Context(), testURL, plain, other)
	require.ErrorContains(t, err, `queue "`+other+`" already exists with other flags or arguments`)
	amqpErr, ok := errors.AsType[*amqp091.Error](err)
	require.True(t, ok)
	require.Equal(t, amqp091.PreconditionFailed, amqpErr.Code)
}

func TestInspector(t *testing.T) {
	t.Parallel()
	q := newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	ch := rawChannel(t)
	for range 3 {
		rawPublish(t, ch, q, amqp091.Publishing{Body: []byte("x")})
	}

	in, err := NewInspector(testURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, in.Close()) })
	require.NoError(t, in.Ping(t.Context()))

	messages, consumers, err := in.Depth(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, 3, messages)
	require.Equal(t, 0, consumers)

	_, _, err = in.Depth(t.Context(), q+".missing")
	require.ErrorIs(t, err, ErrQueueNotFound)
	require.ErrorContains(t, err, q+".missing")

	// The missing queue closed the channel; the inspector carries on.
	_, err = ch.Consume(q, "", false, false, false, false, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		messages, consumers, err = in.Depth(t.Context(), q)
		return err == nil && consumers == 1 && messages == 0 // no prefetch limit: all three are with the consumer
	}, waitFor, 20*time.Millisecond)
	require.NoError(t, in.Ping(t.Context()))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err = in.Depth(cancelled, q)
	require.ErrorIs(t, err, context.Canceled)
	_, consumers, err = in.Depth(t.Context(), q)
	require.NoError(t, err, "usable after a cancelled call")
	require.Equal(t, 1, consumers)
}

func TestInspectorLifecycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		prepare func(*Inspector)
		wantErr error
	}{
		{name: "BrokerDown", url: deadURL},
		{name: "Closed", url: testURL, prepare: func(in *Inspector) { require.NoError(t, in.Close()) }, wantErr: ErrInspectorClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := NewInspector(tt.url)
			require.NoError(t, err, "no dial at construction")
			if tt.prepare != nil {
				tt.prepare(in)
			}
			err = in.Ping(t.Context())
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			_, _, err = in.Depth(t.Context(), "any")
			require.Error(t, err)
			require.NoError(t, in.Close())
		})
	}
}

func TestWaitForBroker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		wantErr error
	}{
		{name: "Up", url: testURL},
		{name: "Down", url: deadURL, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
			defer cancel()
			err := WaitForBroker(ctx, tt.url)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			// The last dial is refused, or cut short by the deadline on a
			// loaded machine: either way the error names it.
			require.ErrorContains(t, err, "dial tcp 127.0.0.1:1", "names the last dial error")
			require.NotContains(t, err.Error(), "guest")
		})
	}
}

func TestConstructorsFailWhenBrokerDown(t *testing.T) {
	t.Parallel()
	_, err := NewPublisher(Config{URL: deadURL}, watermill.NopLogger{})
	require.Error(t, err)
	_, err = NewSubscriber(Config{URL: deadURL}, watermill.NopLogger{})
	require.Error(t, err)
}

func TestPurgeAndDelete(t *testing.T) {
	t.Parallel()
	q := newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	rawPublish(t, rawChannel(t), q, amqp091.Publishing{Body: []byte("x")})

	require.NoError(t, PurgeAndDelete(t.Context(), testURL, q, q+".never-declared"))

	in, err := NewInspector(testURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, in.Close()) })
	_, _, err = in.Depth(t.Context(), q)
	require.ErrorIs(t, err, ErrQueueNotFound)
}

// TestUniversalPubSub runs Watermill's own Pub/Sub conformance suite on the
// publisher and subscriber configurations of this package.
func TestUniversalPubSub(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var queues []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		require.NoError(t, PurgeAndDelete(ctx, testURL, queues...))
	})
	tests.TestPubSub(t, tests.Features{
		GuaranteedOrder:                     true,
		GuaranteedOrderWithSingleSubscriber: true,
		Persistent:                          true,
		GenerateTopicFunc: func(tctx tests.TestContext) string {
			return "test.universal." + string(tctx.TestID)
		},
	}, func(t *testing.T) (message.Publisher, message.Subscriber) {
		cfg := Config{URL: testURL}
		pub, err := wamqp.NewPublisher(PublisherConfig(cfg), watermill.NopLogger{})
		require.NoError(t, err)
		subCfg := SubscriberConfig(cfg)
		subCfg.Queue.GenerateName = func(topic string) string {
			// Only subscribers declare queues; remember them for the cleanup.
			mu.Lock()
			defer mu.Unlock()
			queues = append(queues, topic)
			return topic
		}
		sub, err := wamqp.NewSubscriber(subCfg, watermill.NopLogger{})
		require.NoError(t, err)
		return pub, sub
	}, nil)
}
