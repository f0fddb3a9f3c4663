package routers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// relayLoop publishes the outbox, in commit order, until ctx ends. A
// publish failure (broker down) leaves the records in place and is retried.
func (h *Hub) relayLoop(ctx context.Context) error {
	idle := time.NewTimer(h.cfg.RelayIdle)
	defer idle.Stop()
	failures := 0
	for {
		n, err := h.relayOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			h.logger.Warn("outbox relay failed; retrying", "error", err, "failures", failures)
		default:
			failures = 0
		}
		if n == h.cfg.RelayBatch && err == nil {
			continue // more is waiting
		}
		wait := h.cfg.RelayIdle
		if failures > 0 {
			wait = min(h.cfg.RelayIdle<<min(failures, 8), 5*time.Second)
		}
		idle.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
			if failures > 0 {
				<-idle.C
			}
		case <-idle.C:
		}
	}
}

// relayOnce hands one batch of the outbox to the publisher.
func (h *Hub) relayOnce(ctx context.Context) (int, error) {
	return h.ledger.Relay(ctx, h.cfg.RelayBatch, func(records []OutboxRecord) error {
		if err := h.outbox.PublishOutbox(ctx, records); err != nil {
			return err
		}
		h.metrics.Relayed.Add(float64(len(records)))
		return nil
	})
}

// watermillOutbox publishes through a Watermill publisher, one Publish per
// run of records with the same topic, so order is kept.
type watermillOutbox struct{ publisher message.Publisher }

func (w watermillOutbox) PublishOutbox(_ context.Context, records []OutboxRecord) error {
	for start := 0; start < len(records); {
		end := start + 1
		for end < len(records) && records[end].Topic == records[start].Topic {
			end++
		}
		msgs := make([]*message.Message, 0, end-start)
		for _, r := range records[start:end] {
			msgs = append(msgs, r.Message())
		}
		if err := w.publisher.Publish(records[start].Topic, msgs...); err != nil {
			return fmt.Errorf("publish to %s: %w", records[start].Topic, err)
		}
		start = end
	}
	return nil
}

// Message is the record as a Watermill message.
func (r OutboxRecord) Message() *message.Message {
	m := message.NewMessage(r.UUID, r.Payload)
	for k, v := range r.Metadata {
		m.Metadata.Set(k, v)
	}
	return m
}

// sweepLoop queues the deliveries whose retry time has come.
func (h *Hub) sweepLoop(ctx context.Context) error {
	tick := time.NewTicker(h.cfg.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for {
			n, err := h.ledger.ClaimDue(ctx, h.now(), 500, func(j DueJob) OutboxMessage {
				return h.cfg.Topics.jobMessage(j.District, Job{Kind: j.Kind, Key: j.Key})
			})
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					h.logger.Warn("retry sweep failed", "error", err)
				}
				break
			}
			if n > 0 {
				h.committed()
			}
			if n < 500 {
				break
			}
		}
	}
}

// Flush relays what is left in the outbox, for a clean stop.
func (h *Hub) Flush(ctx context.Context) error {
	for {
		n, err := h.relayOnce(ctx)
		if err != nil {
			return err
		}
		if n < h.cfg.RelayBatch {
			return nil
		}
	}
}
