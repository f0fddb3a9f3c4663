package main

import (
	"context"
	"slices"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/cmd/korpu/config"
)

// topology is how cfg's hub declares its queues (amqp.queue_type,
// amqp.delivery_limit), dead-lettering to its poison queue.
func topology(cfg *config.Config) (*amqp.Topology, error) {
	return amqp.NewTopology(amqp.QueueType(cfg.AMQP.QueueType), cfg.AMQP.DeliveryLimit, cfg.Hub.PoisonQueue)
}

// declareQueues declares queues, the hub's, through topo: the portal's two
// are the portal's, used as they are and created only when missing.
func declareQueues(ctx context.Context, cfg *config.Config, topo *amqp.Topology, queues []string) error {
	portal := []string{cfg.Portal.RequestsQueue, cfg.Portal.StatusQueue}
	own := slices.DeleteFunc(slices.Clone(queues), func(q string) bool { return slices.Contains(portal, q) })
	return topo.Declare(ctx, cfg.AMQP.URL, own, portal)
}
