package amqp

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v2/pkg/amqp"
)

// Config is what the hub chooses about its RabbitMQ connections.
type Config struct {
	// URL is the broker's address: one node's AMQP URI (amqp:// or
	// amqps://), or a cluster's nodes' as JoinNodes joins them. Required. It
	// holds the password: never log it.
	URL string
	// Prefetch is how many unacknowledged messages the broker hands to one
	// consumer. Default 1: the subscriber processes one message at a time
	// anyway, and a higher prefetch only lets the first consumer hoard the
	// backlog that other consumers could be working on.
	Prefetch int
	// ChannelPoolSize is how many channels a publisher keeps open and reuses.
	// Default 0: a channel is opened and closed for every Publish.
	ChannelPoolSize int
	// Topology, if set, is how a subscriber declares its queues (on every
	// Subscribe and reconnect): as Topology.Declare declared or found them.
	// Nil declares classic durable queues with no arguments, as
	// DeclareQueues does.
	Topology *Topology
}

// Validate reports what is wrong with c, if anything.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseNodes(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Prefetch < 0 {
		errs = append(errs, fmt.Errorf("amqp: negative prefetch %d", c.Prefetch))
	}
	if c.ChannelPoolSize < 0 {
		errs = append(errs, fmt.Errorf("amqp: negative channel pool size %d", c.ChannelPoolSize))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Prefetch == 0 {
		c.Prefetch = 1
	}
	return c
}

// baseConfig is watermill-amqp's durable queue layout: the default exchange,
// a durable queue named after the topic with no arguments (the same
// declaration as DeclareQueues, so neither side ever meets
// PRECONDITION_FAILED), persistent messages and the hub's Marshaler. Every
// (re)connection dials the next of the broker's nodes that answers, with no
// amqp091 Recovery, which would fight watermill-amqp's reconnect loop. An
// invalid c.URL is left to watermill-amqp to refuse when it dials (Validate
// reports it first).
func baseConfig(c Config, name string) wamqp.Config {
	cfg := wamqp.NewDurableQueueConfig(c.URL)
	cfg.Marshaler = Marshaler{}
	if n, err := parseNodes(c.URL); err == nil {
		cfg.Connection.AmqpURI = n.plain
		// The connection outlives any context: none bounds its dials.
		amqpConfig := n.amqpConfig(context.Background(), name)
		cfg.Connection.AmqpConfig = &amqpConfig
	}
	return cfg
}

// PublisherConfig returns the watermill-amqp configuration of a publisher to
// durable queues: the topic is the queue name (routed through the default
// exchange), messages are persistent and every Publish waits for the broker's
// confirmation.
func PublisherConfig(c Config) wamqp.Config {
	c = c.withDefaults()
	cfg := baseConfig(c, "korpu-publisher")
	cfg.Publish.ConfirmDelivery = true
	cfg.Publish.ChannelPoolSize = c.ChannelPoolSize
	return cfg
}

// SubscriberConfig returns the watermill-amqp configuration of a subscriber
// to durable queues: the topic is the queue name, declared on Subscribe as
// c.Topology says (durable with no arguments without one), and the prefetch
// is c.Prefetch (default 1).
func SubscriberConfig(c Config) wamqp.Config {
	c = c.withDefaults()
	cfg := baseConfig(c, "korpu-subscriber")
	cfg.Consume.Qos = wamqp.QosConfig{PrefetchCount: c.Prefetch}
	if c.Topology != nil {
		cfg.TopologyBuilder = topologyBuilder{c.Topology}
	}
	return cfg
}

// NewPublisher connects a publisher configured by PublisherConfig. It dials
// once and fails if the broker is down: call WaitForBroker first to wait for
// it at start-up. Once connected, the publisher reconnects by itself.
func NewPublisher(c Config, logger watermill.LoggerAdapter) (*wamqp.Publisher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pub, err := wamqp.NewPublisher(PublisherConfig(c), logger)
	if err != nil {
		return nil, fmt.Errorf("amqp: new publisher: %w", err)
	}
	return pub, nil
}

// NewSubscriber connects a subscriber configured by SubscriberConfig. It
// dials once and fails if the broker is down: call WaitForBroker first to
// wait for it at start-up. Once connected, the subscriber reconnects by itself.
func NewSubscriber(c Config, logger watermill.LoggerAdapter) (*wamqp.Subscriber, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sub, err := wamqp.NewSubscriber(SubscriberConfig(c), logger)
	if err != nil {
		return nil, fmt.Errorf("amqp: new subscriber: %w", err)
	}
	return sub, nil
}
