package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// publishBatch is how many requests one publisher sends per confirm round
// trip when they are waiting: enough that publishing is never the bottleneck.
const publishBatch = 100

// statusPrefetch is each status consumer's prefetch: the bench's consumer
// must keep up with any hub.
const statusPrefetch = 200

// request is one generated request and the moments the bench saw it pass.
// The times are Unix nanoseconds, zero until seen; the map holding requests
// is filled before any goroutine starts, so only the fields change.
type request struct {
	msg        portalsim.Message
	published  atomic.Int64
	registered atomic.Int64
	delivered  atomic.Int64
	answered   atomic.Int64
}

// generate makes n valid signed requests over the districts, before the
// clock starts, so generating costs the run nothing.
func generate(codes []string, n int, seed uint64) ([]*request, map[string]*request) {
	districts := make([]portalsim.District, len(codes))
	for i, code := range codes {
		districts[i] = portalsim.District{Code: code, Officials: []portalsim.Official{{
			ID: officialID(code), Capacity: map[time.Weekday]int{time.Tuesday: receptionCapacity, time.Thursday: receptionCapacity},
		}}}
	}
	gen := portalsim.NewGenerator(portalsim.Options{
		Districts: districts, Catalogue: catalogue.Default(), Calendar: calendar.Default(),
		SigningKey: []byte(signingKey), Seed: seed, BadRate: -1, DuplicateRate: -1,
	})
	list := make([]*request, 0, n)
	byID := make(map[string]*request, n)
	for len(list) < n {
		m := gen.Next()
		if m.Outcome != portalsim.Registered {
			continue // a booking that found no place: never with the bench's capacity
		}
		r := &request{msg: m}
		list = append(list, r)
		byID[m.ID] = r
	}
	return list, byID
}

// publish sends every request through the portal's feed, from publishers
// workers, each with its own confirming BatchPublisher: as fast as possible
// (rate 0) or rate per second. Each request's publish time is taken as its
// batch leaves. A failed batch is sent again, so that a broker restart only
// delays the run: the hub's inbox absorbs the repeats, as it does the
// portal's.
func publish(ctx context.Context, amqpURL, queue string, reqs []*request, byID map[string]*request, publishers int, rate float64) error {
	pubs := make([]*amqp.BatchPublisher, publishers)
	for i := range pubs {
		pubs[i] = amqp.NewBatchPublisher(amqpURL)
		defer pubs[i].Close()
	}
	next := 0
	_, err := portalsim.Feed{
		Next: func() (portalsim.Message, bool) {
			if next == len(reqs) {
				return portalsim.Message{}, false
			}
			next++
			return reqs[next-1].msg, true
		},
		Send: func(ctx context.Context, worker int, batch []*message.Message) error {
			return pubs[worker].PublishTo(ctx, queue, batch...)
		},
		Leaving: func(batch []portalsim.Message) {
			now := time.Now().UnixNano()
			for _, m := range batch {
				byID[m.ID].published.Store(now)
			}
		},
		Rate: rate, Workers: publishers, Batch: publishBatch, RetryAfter: 500 * time.Millisecond,
	}.Run(ctx)
	if err != nil {
		return fmt.Errorf("publish requests: %w", err)
	}
	return nil
}

// observer counts the status events the bench's consumers receive.
type observer struct {
	byID map[string]*request
	// down is the district that is down, if any; its appeals are counted apart.
	down string

	arrivals   atomic.Int64 // every status message, repeats included
	registered atomic.Int64
	delivered  atomic.Int64
	inProgress atomic.Int64
	answered   atomic.Int64
	unknown    atomic.Int64 // events of requests the bench did not send

	downDelivered   atomic.Int64
	othersDelivered atomic.Int64
	lastRegistered  atomic.Int64 // Unix nanoseconds
	lastDelivered   atomic.Int64
	lastAnswered    atomic.Int64
	lastDown        atomic.Int64 // last delivered of the down district
	lastOthers      atomic.Int64 // last delivered of the other districts
}

// statusEvent is the part of a status event the bench reads.
type statusEvent struct {
	RequestID string         `json:"request_id"`
	Status    routers.Status `json:"status"`
}

// record notes one status event that arrived at now (Unix nanoseconds).
func (o *observer) record(body []byte, now int64) {
	o.arrivals.Add(1)
	var ev statusEvent
	if json.Unmarshal(body, &ev) != nil {
		o.unknown.Add(1)
		return
	}
	r, ok := o.byID[ev.RequestID]
	if !ok {
		o.unknown.Add(1)
		return
	}
	first := func(at *atomic.Int64) bool { return at.CompareAndSwap(0, now) }
	switch ev.Status {
	case routers.StatusRegistered:
		if first(&r.registered) {
			o.registered.Add(1)
			storeMax(&o.lastRegistered, now)
		}
	case routers.StatusDelivered:
		if first(&r.delivered) {
			o.delivered.Add(1)
			storeMax(&o.lastDelivered, now)
			if r.msg.District == o.down {
				o.downDelivered.Add(1)
				storeMax(&o.lastDown, now)
			} else {
				o.othersDelivered.Add(1)
				storeMax(&o.lastOthers, now)
			}
		}
	case routers.StatusInProgress:
		o.inProgress.Add(1)
	case routers.StatusAnswered:
		if first(&r.answered) {
			o.answered.Add(1)
			storeMax(&o.lastAnswered, now)
		}
	}
}

func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// consume takes the messages of queue on consumers subscriptions of
// adapters/amqp's subscriber, prefetch each, handing each body to got and
// acking it, until stop is called. The subscriber redials by itself after
// the broker goes away (a restart must not blind the bench); the first dial
// must succeed.
func consume(ctx context.Context, amqpURL, queue string, consumers, prefetch int, got func(body []byte)) (stop func(), err error) {
	sub, err := amqp.NewSubscriber(amqp.Config{URL: amqpURL, Prefetch: prefetch}, watermill.NopLogger{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range consumers {
		msgs, err := sub.Subscribe(ctx, queue)
		if err != nil {
			cancel()
			_ = sub.Close()
			return nil, fmt.Errorf("amqp: consume %s: %w", queue, err)
		}
		wg.Go(func() {
			for msg := range msgs {
				got(msg.Payload)
				msg.Ack()
			}
		})
	}
	return func() { cancel(); _ = sub.Close(); wg.Wait() }, nil
}

// consumeStatus consumes the status events for o until stop is called.
func consumeStatus(ctx context.Context, amqpURL, queue string, consumers int, o *observer) (stop func(), err error) {
	return consume(ctx, amqpURL, queue, consumers, statusPrefetch, func(body []byte) {
		o.record(body, time.Now().UnixNano())
	})
}

// ceilingResult is the broker's single-hop ceiling.
type ceilingResult struct {
	elapsed       time.Duration
	brokerSeconds float64 // CPU of the broker during the run
}

// runCeiling publishes m messages of the requests' bodies to queue
// (persistent, confirmed in batches of batch by each of publishers) and
// consumes them with consumers subscriptions of prefetch 1 that ack each
// one: the hub's own shape of a hop, through the same adapters.
func runCeiling(ctx context.Context, amqpURL, queue string, reqs []*request, m, publishers, consumers, batch int, proc procReader) (ceilingResult, error) {
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	stop, err := consume(ctx, amqpURL, queue, consumers, 1, func([]byte) {
		if got.Add(1) == int64(m) {
			once.Do(func() { close(done) })
		}
	})
	if err != nil {
		return ceilingResult{}, fmt.Errorf("ceiling: %w", err)
	}
	defer stop()
	pubs := make([]*amqp.BatchPublisher, publishers)
	for i := range pubs {
		pubs[i] = amqp.NewBatchPublisher(amqpURL)
		defer pubs[i].Close()
	}
	before := proc.snapshot(nil)
	start := time.Now()
	next := 0
	_, err = portalsim.Feed{
		Next: func() (portalsim.Message, bool) {
			if next == m {
				return portalsim.Message{}, false
			}
			next++
			return reqs[(next-1)%len(reqs)].msg, true
		},
		Send: func(ctx context.Context, worker int, msgs []*message.Message) error {
			return pubs[worker].PublishTo(ctx, queue, msgs...)
		},
		Workers: publishers, Batch: batch, RetryAfter: 500 * time.Millisecond,
	}.Run(ctx)
	if err != nil {
		return ceilingResult{}, fmt.Errorf("ceiling: %w", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ceilingResult{}, ctx.Err()
	case <-time.After(5 * time.Minute):
		return ceilingResult{}, fmt.Errorf("ceiling: %d of %d messages consumed after 5 minutes", got.Load(), m)
	}
	elapsed := time.Since(start)
	after := proc.snapshot(nil)
	return ceilingResult{elapsed: elapsed, brokerSeconds: after.broker - before.broker}, nil
}
