package routers

import (
	"context"
	"sync"
	"time"
)

// QueueInspector reads how many messages wait in a queue
// (adapters/amqp.Inspector).
type QueueInspector interface {
	Depth(ctx context.Context, queue string) (messages, consumers int, err error)
}

// queueDepthTTL is how long a district queue's depth is reused: a country
// view asks for every district's, and a dashboard asks again every few
// seconds.
const queueDepthTTL = 5 * time.Second

// Health is the DistrictHealth the hub knows: its circuit breakers and,
// with queues (nil: no broker, as in the demo), the depth of each
// district's delivery queue.
func (h *Hub) Health(queues QueueInspector) DistrictHealth {
	return &hubHealth{hub: h, queues: queues, depths: map[string]queueDepth{}}
}

type hubHealth struct {
	hub    *Hub
	queues QueueInspector

	mu     sync.Mutex
	depths map[string]queueDepth // by district
}

type queueDepth struct {
	messages int
	at       time.Time // the hub's clock
}

// Breaker implements DistrictHealth: closed, half-open or open.
func (hh *hubHealth) Breaker(district string) string {
	g, ok := hh.hub.guards[district]
	if !ok {
		return ""
	}
	return g.breaker.State().String()
}

// QueueDepth implements DistrictHealth.
func (hh *hubHealth) QueueDepth(ctx context.Context, district string) (int, bool) {
	if hh.queues == nil {
		return 0, false
	}
	if _, ok := hh.hub.guards[district]; !ok {
		return 0, false
	}
	now := hh.hub.now()
	hh.mu.Lock()
	d, ok := hh.depths[district]
	hh.mu.Unlock()
	if ok && now.Sub(d.at) < queueDepthTTL && !now.Before(d.at) {
		return d.messages, true
	}
	messages, _, err := hh.queues.Depth(ctx, hh.hub.cfg.Topics.District(district))
	if err != nil {
		return 0, false
	}
	hh.mu.Lock()
	hh.depths[district] = queueDepth{messages: messages, at: now}
	hh.mu.Unlock()
	return messages, true
}
