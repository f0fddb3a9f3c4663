package routers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// OutboxLedger is what the relay and the retry sweeper need of the ledger.
type OutboxLedger interface {
	// Relay hands up to limit outbox records, oldest first, to publish and
	// deletes them once it returns nil. Only one relay runs at a time across
	// all hub processes, so the portal sees events in commit order.
	Relay(ctx context.Context, limit int, publish func([]OutboxRecord) error) (int, error)
	// ClaimDue takes up to limit deliveries (of the districts filter lets
	// through) whose retry time is before now, oldest first, clears their
	// retry time and commits the messages job(d) makes for them.
	ClaimDue(ctx context.Context, now time.Time, limit int, filter DueFilter, job func(DueJob) OutboxMessage) (int, error)
	// Expedite makes every pending delivery of a district due now, for when
	// it comes back from an outage; it returns how many it moved.
	Expedite(ctx context.Context, district string, now time.Time) (int, error)
	// ExpediteUnenriched makes every pending appeal delivery still without
	// the registry's record (Person) that is due after now due now, for when
	// the registry answers again; it returns how many it moved.
	ExpediteUnenriched(ctx context.Context, now time.Time) (int, error)
}

// relayLoop publishes the outbox, in commit order, until ctx ends. A
// publish failure (broker down) leaves the records in place and is retried.
// A batch begun is finished even if ctx ends meanwhile (within
// relayBatchTimeout): cut off half-way, the part already published would
// stay in the outbox and be published again by the stop's last flush or
// another hub, repeats the portal would have to drop.
func (h *Hub) relayLoop(ctx context.Context) error {
	idle := time.NewTimer(h.cfg.RelayIdle)
	defer idle.Stop()
	failures := 0
	for {
		// Detached from ctx but bounded: a database gone silent mid-batch
		// must not hold up the stop, which waits for this loop.
		batchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayBatchTimeout)
		n, err := h.relayOnce(batchCtx)
		cancel()
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

// relayPublishTimeout bounds the publishing of one relay batch.
const relayPublishTimeout = 30 * time.Second

// relayBatchTimeout bounds one relay batch: its publish and the statements
// around it.
const relayBatchTimeout = relayPublishTimeout + 10*time.Second

// relayOnce hands one batch of the outbox to the publisher.
func (h *Hub) relayOnce(ctx context.Context) (int, error) {
	return h.outboxLedger.Relay(ctx, h.cfg.RelayBatch, func(records []OutboxRecord) error {
		// Bounded: a broker that blocks publishers (flow control, a memory
		// alarm) must not hold the relay's lock and transaction forever.
		pubCtx, cancel := context.WithTimeout(ctx, relayPublishTimeout)
		defer cancel()
		if err := h.outbox.PublishOutbox(pubCtx, records); err != nil {
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

// sweepBatch is how many due deliveries one claim takes.
const sweepBatch = 500

// sweepLoop queues the deliveries whose retry time has come. A district
// whose breaker is open keeps its backlog parked in the ledger, costing
// nothing, but for one probe per cool-down; when the probe closes the
// breaker, its whole backlog is made due at once and drains. So do the
// appeals waiting for the registry's record when the registry answers again.
func (h *Hub) sweepLoop(ctx context.Context) error {
	tick := time.NewTicker(h.cfg.SweepInterval)
	defer tick.Stop()
	lastProbe := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case code := <-h.recovered:
			if n, err := h.outboxLedger.Expedite(ctx, code, h.now()); err != nil {
				h.logger.Warn("expediting a recovered district failed", "district", code, "error", err)
			} else {
				h.logger.Info("district recovered; its backlog is due now", "district", code, "appeals", n)
			}
		case <-h.registryUp:
			if n, err := h.outboxLedger.ExpediteUnenriched(ctx, h.now()); err != nil {
				h.logger.Warn("expediting the appeals waiting for the registry failed", "error", err)
			} else if n > 0 {
				h.logger.Info("registry answers again; the appeals waiting for it are due now", "appeals", n)
			}
		}
		var parked []string
		for code, g := range h.guards {
			if !g.available() {
				parked = append(parked, code)
			}
		}
		h.claimDue(ctx, DueFilter{Skip: parked}, sweepBatch)
		now := h.now()
		for _, code := range parked {
			if now.Sub(lastProbe[code]) >= h.cfg.BreakerCooldown {
				lastProbe[code] = now
				h.claimDue(ctx, DueFilter{Only: code}, 1)
			}
		}
	}
}

// claimDue queues due deliveries, batch after batch while there are more.
func (h *Hub) claimDue(ctx context.Context, filter DueFilter, limit int) {
	for {
		n, err := h.outboxLedger.ClaimDue(ctx, h.now(), limit, filter, func(j DueJob) OutboxMessage {
			return h.cfg.Topics.jobMessage(j.District, Job{Kind: j.Kind, Key: j.Key})
		})
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				h.logger.Warn("retry sweep failed", "error", err)
			}
			return
		}
		if n > 0 {
			h.committed()
		}
		if n < limit || limit == 1 {
			return
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
