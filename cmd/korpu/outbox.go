package main

import (
	"context"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/routers"
)

// amqpOutbox relays the outbox to RabbitMQ in confirmed batches.
type amqpOutbox struct{ publisher *amqp.BatchPublisher }

func (o amqpOutbox) PublishOutbox(ctx context.Context, records []routers.OutboxRecord) error {
	batch := make([]amqp.Outgoing, len(records))
	for i, r := range records {
		batch[i] = amqp.Outgoing{Queue: r.Topic, Message: r.Message()}
	}
	return o.publisher.Publish(ctx, batch)
}
