package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

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

func portalMessage(m portalsim.Message) *message.Message {
	msg := message.NewMessage(m.ID, m.Body)
	msg.Metadata.Set(routers.SignatureHeader, m.Signature)
	return msg
}

// publish sends every request from publishers goroutines, each with its own
// confirming BatchPublisher: as fast as possible (rate 0) or rate per
// second. Each request's publish time is taken as its batch leaves.
func publish(ctx context.Context, amqpURL, queue string, reqs []*request, publishers int, rate float64) error {
	next := make(chan *request, len(reqs))
	go func() {
		defer close(next)
		start := time.Now()
		for i, r := range reqs {
			if rate > 0 {
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
			}
			next <- r
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, publishers)
	for p := range publishers {
		wg.Go(func() {
			pub := amqp.NewBatchPublisher(amqpURL)
			defer pub.Close()
			errs[p] = publishFrom(ctx, pub, queue, next)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// publishFrom publishes what next holds, in batches of what is waiting.
func publishFrom(ctx context.Context, pub *amqp.BatchPublisher, queue string, next <-chan *request) error {
	batch := make([]*request, 0, publishBatch)
	out := make([]amqp.Outgoing, 0, publishBatch)
	for r := range next {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < publishBatch {
			select {
			case r, ok := <-next:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		out = out[:0]
		now := time.Now().UnixNano()
		for _, r := range batch {
			r.published.Store(now)
			out = append(out, amqp.Outgoing{Queue: queue, Message: portalMessage(r.msg)})
		}
		if err := publishRetrying(ctx, pub, out); err != nil {
			return err
		}
	}
	return nil
}

// publishRetrying repeats a failed batch until it is confirmed or ctx
// ends, so a broker restart only delays the run: the hub's inbox absorbs
// the repeats, as it does the portal's.
func publishRetrying(ctx context.Context, pub *amqp.BatchPublisher, out []amqp.Outgoing) error {
	for {
		err := pub.Publish(ctx, out)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish requests: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
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

// consumeStatus consumes the status queue on consumers channels of one
// connection, acking each event, until stop is called. It dials again after
// the broker goes away (a restart must not blind the bench); the first dial
// must succeed.
func consumeStatus(ctx context.Context, amqpURL, queue string, consumers int, o *observer) (stop func(), err error) {
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		return nil, fmt.Errorf("amqp: dial for status: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if conn != nil {
				_ = statusSession(ctx, conn, queue, consumers, o)
				_ = conn.Close()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			conn, _ = amqp091.Dial(amqpURL) // nil on failure: try again
		}
	}()
	return func() { cancel(); <-done }, nil
}

// statusSession consumes on conn until it closes or ctx ends.
func statusSession(ctx context.Context, conn *amqp091.Connection, queue string, consumers int, o *observer) error {
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	var wg sync.WaitGroup
	defer wg.Wait()
	for range consumers {
		ch, err := conn.Channel()
		if err != nil {
			return fmt.Errorf("amqp: status channel: %w", err)
		}
		if err := ch.Qos(statusPrefetch, 0, false); err != nil {
			return fmt.Errorf("amqp: status qos: %w", err)
		}
		deliveries, err := ch.ConsumeWithContext(ctx, queue, "", false, false, false, false, nil)
		if err != nil {
			return fmt.Errorf("amqp: consume %s: %w", queue, err)
		}
		wg.Go(func() {
			for d := range deliveries {
				o.record(d.Body, time.Now().UnixNano())
				_ = d.Ack(false)
			}
		})
	}
	select {
	case <-ctx.Done():
		_ = conn.Close() // ends the deliveries
	case <-closed:
	}
	return nil
}

// ceilingResult is the broker's single-hop ceiling.
type ceilingResult struct {
	elapsed     time.Duration
	brokerTicks int64
}

// runCeiling publishes m messages of the requests' bodies to queue
// (persistent, confirmed in batches of batch by each of publishers) and
// consumes them with consumers channels of prefetch 1 that ack each one:
// the hub's own shape of a hop.
func runCeiling(ctx context.Context, amqpURL, queue string, reqs []*request, m, publishers, consumers, batch int) (ceilingResult, error) {
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		return ceilingResult{}, fmt.Errorf("amqp: dial for the ceiling: %w", err)
	}
	defer conn.Close()
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	for range consumers {
		ch, err := conn.Channel()
		if err != nil {
			return ceilingResult{}, fmt.Errorf("amqp: ceiling channel: %w", err)
		}
		if err := ch.Qos(1, 0, false); err != nil {
			return ceilingResult{}, fmt.Errorf("amqp: ceiling qos: %w", err)
		}
		deliveries, err := ch.ConsumeWithContext(ctx, queue, "", false, false, false, false, nil)
		if err != nil {
			return ceilingResult{}, fmt.Errorf("amqp: consume %s: %w", queue, err)
		}
		go func() {
			for d := range deliveries {
				_ = d.Ack(false)
				if got.Add(1) == int64(m) {
					once.Do(func() { close(done) })
				}
			}
		}()
	}
	next := make(chan int, m)
	for i := range m {
		next <- i
	}
	close(next)
	before := takeCPUSnapshot(nil)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, publishers)
	for p := range publishers {
		wg.Go(func() {
			pub := amqp.NewBatchPublisher(amqpURL)
			defer pub.Close()
			out := make([]amqp.Outgoing, 0, batch)
			for i := range next {
				out = append(out, amqp.Outgoing{Queue: queue, Message: portalMessage(reqs[i%len(reqs)].msg)})
				if len(out) == batch {
					if errs[p] = publishRetrying(ctx, pub, out); errs[p] != nil {
						return
					}
					out = out[:0]
				}
			}
			if len(out) > 0 {
				errs[p] = publishRetrying(ctx, pub, out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return ceilingResult{}, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ceilingResult{}, ctx.Err()
	case <-time.After(5 * time.Minute):
		return ceilingResult{}, fmt.Errorf("ceiling: %d of %d messages consumed after 5 minutes", got.Load(), m)
	}
	elapsed := time.Since(start)
	after := takeCPUSnapshot(nil)
	return ceilingResult{elapsed: elapsed, brokerTicks: after.broker - before.broker}, nil
}
