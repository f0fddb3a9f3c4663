package amqp

import (
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/require"
)

func TestBatchPublisher(t *testing.T) {
	t.Parallel()
	first, second := newQueueName(t), newQueueName(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, first, second))

	p := NewBatchPublisher(testURL)
	t.Cleanup(func() { _ = p.Close() })
	var batch []Outgoing
	for i := range 50 {
		msg := message.NewMessage(fmt.Sprintf("m-%02d", i), []byte(fmt.Sprintf("body %02d", i)))
		msg.Metadata.Set(MetadataCorrelationID, "req-1")
		queue := first
		if i%2 == 1 {
			queue = second
		}
		batch = append(batch, Outgoing{Queue: queue, Message: msg})
	}
	require.NoError(t, p.Publish(t.Context(), batch))

	ch := rawChannel(t)
	for i := 0; i < 50; i += 2 {
		d := rawGet(t, ch, first)
		require.Equal(t, fmt.Sprintf("body %02d", i), string(d.Body), "order kept per queue")
		require.Equal(t, fmt.Sprintf("m-%02d", i), d.MessageId)
		require.Equal(t, "req-1", d.CorrelationId)
		require.EqualValues(t, 2, d.DeliveryMode, "persistent")
	}
	in, err := NewInspector(testURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	msgs, _, err := in.Depth(t.Context(), second)
	require.NoError(t, err)
	require.Equal(t, 25, msgs)

	// A closed connection is redialled on the next batch.
	require.NoError(t, p.Close())
	require.NoError(t, p.Publish(t.Context(), batch[:1]))
}
