package amqp

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

func TestConfigs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           Config
		wantPrefetch int
		wantPool     int
	}{
		{name: "Defaults", in: Config{URL: testURL}, wantPrefetch: 1},
		{name: "Explicit", in: Config{URL: testURL, Prefetch: 3, ChannelPoolSize: 4}, wantPrefetch: 3, wantPool: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, tt.in.Validate())
			pub := PublisherConfig(tt.in)
			require.NoError(t, pub.ValidatePublisher())
			require.True(t, pub.Publish.ConfirmDelivery, "publisher confirms")
			require.Equal(t, tt.wantPool, pub.Publish.ChannelPoolSize)
			require.Equal(t, "q", pub.Publish.GenerateRoutingKey("q"), "routing key is the topic")
			require.Empty(t, pub.Exchange.GenerateName("q"), "default exchange")

			sub := SubscriberConfig(tt.in)
			require.NoError(t, sub.ValidateSubscriber())
			require.Equal(t, tt.wantPrefetch, sub.Consume.Qos.PrefetchCount)
			require.Equal(t, "q", sub.Queue.GenerateName("q"), "queue is the topic")
			require.True(t, sub.Queue.Durable)
			require.False(t, sub.Queue.AutoDelete || sub.Queue.Exclusive)
			require.Nil(t, sub.Queue.Arguments, "no arguments, as DeclareQueues")
			require.False(t, sub.Consume.NoRequeueOnNack)

			for _, c := range []struct {
				uri       string
				marshaler any
				amqpCfg   *amqp091.Config
			}{
				{pub.Connection.AmqpURI, pub.Marshaler, pub.Connection.AmqpConfig},
				{sub.Connection.AmqpURI, sub.Marshaler, sub.Connection.AmqpConfig},
			} {
				require.Equal(t, testURL, c.uri)
				require.IsType(t, Marshaler{}, c.marshaler)
				require.NotNil(t, c.amqpCfg, "the nodes' dialer")
				require.NotNil(t, c.amqpCfg.Dial)
				require.Nil(t, c.amqpCfg.Recovery, "amqp091's own recovery stays off")
				require.Nil(t, c.amqpCfg.TLSClientConfig, "TLS, if any, is the dialer's")
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Config
		wantErr string
	}{
		{name: "EmptyURL", in: Config{}, wantErr: "empty URL"},
		{name: "BadScheme", in: Config{URL: "http://guest:secret@host/"}, wantErr: "invalid URL"},
		{name: "NegativePrefetch", in: Config{URL: testURL, Prefetch: -1}, wantErr: "negative prefetch"},
		{name: "NegativePool", in: Config{URL: testURL, ChannelPoolSize: -1}, wantErr: "negative channel pool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate()
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}
