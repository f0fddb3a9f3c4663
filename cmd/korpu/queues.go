package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/cmd/korpu/config"
)

const queuesUsage = `usage:
  korpu queues list    --config FILE   each queue's kind (the hub's declaration, classic, other, missing), depth and consumers
  korpu queues migrate --config FILE   give each hub queue that exists otherwise the hub's declaration (classic to quorum), with its
                                       messages in order; stop every hub first; safe to run again after a crash`

// queuesCmd lists the broker's queues of cfg's hub or migrates them.
func queuesCmd(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "migrate") {
		return errors.New("queues: list or migrate?\n" + queuesUsage)
	}
	cfg, logger, err := loadConfig(args[1:], "queues "+args[0], getenv)
	if err != nil {
		return err
	}
	topo, err := topology(cfg)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		states, err := topo.Inspect(ctx, cfg.AMQP.URL, append(portalQueues(cfg), hubQueues(cfg)...))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-40s %-8s %10s %9s  %s\n", "queue", "kind", "messages", "consumers", "migrating")
		for _, st := range states {
			migrating := "-"
			if st.Migrating >= 0 {
				migrating = strconv.Itoa(st.Migrating) + " messages in " + st.Queue + amqp.MigratingSuffix + ": run korpu queues migrate"
			}
			fmt.Fprintf(stdout, "%-40s %-8s %10d %9d  %s\n", st.Queue, st.Kind, st.Messages, st.Consumers, migrating)
		}
		return nil
	}
	logger.Warn("migrating the hub's queues: every hub must be stopped; a queue with consumers is refused", "queue_type", cfg.AMQP.QueueType)
	moved, err := topo.Migrate(ctx, cfg.AMQP.URL, hubQueues(cfg))
	for _, m := range moved {
		fmt.Fprintf(stdout, "%s: was %s, now the hub's %s queue; %d messages moved out, %d back\n", m.Queue, m.From, cfg.AMQP.QueueType, m.Out, m.Back)
	}
	if err != nil {
		return fmt.Errorf("queues migrate (run it again once mended: it resumes): %w", err)
	}
	if len(moved) == 0 {
		fmt.Fprintln(stdout, "nothing to migrate: every hub queue is missing or already the hub's")
	}
	return nil
}

// hubQueues are the queues cfg's hub owns and declares as its topology says:
// all but the portal's two.
func hubQueues(cfg *config.Config) []string {
	topics := hubConfig(cfg).Topics
	q := []string{topics.Poison, topics.Oversight, topics.Checkpoints}
	for _, d := range cfg.Districts {
		q = append(q, topics.District(d.Code))
	}
	return q
}

// portalQueues are the portal's queues, which the hub uses as they are.
func portalQueues(cfg *config.Config) []string {
	return []string{cfg.Portal.RequestsQueue, cfg.Portal.StatusQueue}
}

// topology is how cfg's hub declares its queues (amqp.queue_type,
// amqp.delivery_limit), dead-lettering to its poison queue.
func topology(cfg *config.Config) (*amqp.Topology, error) {
	return amqp.NewTopology(amqp.QueueType(cfg.AMQP.QueueType), cfg.AMQP.DeliveryLimit, cfg.Hub.PoisonQueue)
}

// declareQueues declares queues, the hub's, through topo: the portal's two
// are the portal's, used as they are and created only when missing.
func declareQueues(ctx context.Context, cfg *config.Config, topo *amqp.Topology, queues []string) error {
	portal := portalQueues(cfg)
	own := slices.DeleteFunc(slices.Clone(queues), func(q string) bool { return slices.Contains(portal, q) })
	return topo.Declare(ctx, cfg.AMQP.URL, own, portal)
}
