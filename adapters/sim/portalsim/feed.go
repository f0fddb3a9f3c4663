package portalsim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/korpu-az/korpu/routers"
)

// WatermillMessage returns m as the portal puts it on the requests queue:
// its id as the message id, its signature in the x-signature header.
func (m Message) WatermillMessage() *message.Message {
	msg := message.NewMessage(m.ID, m.Body)
	msg.Metadata.Set(routers.SignatureHeader, m.Signature)
	return msg
}

// Feed is the portal's publishing, the one loop behind korpu demo, korpu sim
// portal and korpu bench: it takes messages from Next, paces them, and hands
// them to Send in batches from several workers.
type Feed struct {
	// Next gives the next message; false ends the feed. It is called from
	// one goroutine, when the pace lets the message leave.
	Next func() (Message, bool)
	// Send publishes a batch to the requests queue. It is called from
	// Workers goroutines at once; worker (0 … Workers-1) tells which, so
	// that each may have a connection of its own.
	Send func(ctx context.Context, worker int, batch []*message.Message) error
	// Rate is messages a second, the i-th leaving at start + i/Rate; 0 sends
	// as fast as Send takes them.
	Rate float64
	// Workers send at once. Default 1.
	Workers int
	// Batch is the most messages one Send carries: the first and those
	// already waiting behind it. Default 1.
	Batch int
	// RetryAfter, if positive, sends a failed batch again after this long
	// until it goes or ctx ends, so that a broker restart only delays the
	// feed (the hub's inbox absorbs a repeat whose confirm was lost). Zero
	// ends the feed at the first failure, with its error.
	RetryAfter time.Duration
	// Leaving, if set, sees each batch just before its Send.
	Leaving func(batch []Message)
	// Sent, if set, counts the messages sent as they go.
	Sent *atomic.Int64
}

// Run sends until Next has no more, ctx ends or a Send fails for good, and
// returns how many messages were sent. It returns ctx's error only if ctx
// ended while a batch was being retried.
func (f Feed) Run(ctx context.Context) (int64, error) {
	workers, batch := max(f.Workers, 1), max(f.Batch, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan Message, workers*batch)
	go f.produce(ctx, queue)

	sent := f.Sent
	if sent == nil {
		sent = new(atomic.Int64)
	}
	base := sent.Load()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			if errs[w] = f.work(ctx, w, batch, queue, sent); errs[w] != nil {
				cancel() // the feed ends with the first failure
			}
		})
	}
	wg.Wait()
	return sent.Load() - base, errors.Join(errs...)
}

// produce puts the messages of Next on queue at the feed's pace.
func (f Feed) produce(ctx context.Context, queue chan<- Message) {
	defer close(queue)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; ; i++ {
		if f.Rate > 0 {
			// Pacing: the i-th message leaves at start + i/Rate.
			timer.Reset(time.Until(start.Add(time.Duration(float64(i) / f.Rate * float64(time.Second)))))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		m, ok := f.Next()
		if !ok {
			return
		}
		select {
		case queue <- m:
		case <-ctx.Done():
			return
		}
	}
}

// work sends batches of what queue holds until it closes.
func (f Feed) work(ctx context.Context, worker, size int, queue <-chan Message, sent *atomic.Int64) error {
	for m := range queue {
		// Fresh slices each time: Send and Leaving may keep theirs.
		batch := append(make([]Message, 0, size), m)
	fill:
		for len(batch) < size {
			select {
			case m, ok := <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, m)
			default:
				break fill
			}
		}
		select {
		case <-ctx.Done():
			return nil // stopped: what is left is not sent
		default:
		}
		msgs := make([]*message.Message, len(batch))
		for i, m := range batch {
			msgs[i] = m.WatermillMessage()
		}
		if f.Leaving != nil {
			f.Leaving(batch)
		}
		if err := f.send(ctx, worker, msgs); err != nil {
			return err
		}
		sent.Add(int64(len(batch)))
	}
	return nil
}

// send sends one batch, again after RetryAfter while it fails, if asked.
func (f Feed) send(ctx context.Context, worker int, msgs []*message.Message) error {
	for {
		err := f.Send(ctx, worker, msgs)
		if err == nil {
			return nil
		}
		if f.RetryAfter <= 0 {
			return fmt.Errorf("portal feed: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("portal feed: %w (last failure: %w)", ctx.Err(), err)
		case <-time.After(f.RetryAfter):
		}
	}
}
