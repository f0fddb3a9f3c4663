package portalsim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/korpu-az/korpu/routers"
)

// Tracker is the portal's side of the status queue: it records every event
// and checks the promises of contract §2 as they arrive.
type Tracker struct {
	mu        sync.Mutex
	byRequest map[string][]routers.StatusEvent
	byAppeal  map[string][]routers.StatusEvent
	eventIDs  map[string]int
	counts    map[routers.Status]int
	total     int
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{
		byRequest: map[string][]routers.StatusEvent{},
		byAppeal:  map[string][]routers.StatusEvent{},
		eventIDs:  map[string]int{},
		counts:    map[routers.Status]int{},
	}
}

// Consume records events from messages until the channel closes, acking each.
func (t *Tracker) Consume(ctx context.Context, messages <-chan *message.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-messages:
			if !ok {
				return
			}
			var ev routers.StatusEvent
			if err := json.Unmarshal(msg.Payload, &ev); err == nil {
				t.Record(ev)
			}
			msg.Ack()
		}
	}
}

// Record adds one event as the portal received it.
func (t *Tracker) Record(ev routers.StatusEvent) {
	t.mu.Lock()
	t.eventIDs[ev.EventID]++
	t.byRequest[ev.RequestID] = append(t.byRequest[ev.RequestID], ev)
	if ev.AppealNumber != "" {
		t.byAppeal[ev.AppealNumber] = append(t.byAppeal[ev.AppealNumber], ev)
	}
	if t.eventIDs[ev.EventID] == 1 {
		t.counts[ev.Status]++
		t.total++
	}
	t.mu.Unlock()
}

// Counts returns the number of distinct events per status, and in all.
func (t *Tracker) Counts() (map[routers.Status]int, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[routers.Status]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out, t.total
}

// Request returns the events received for a request id, in arrival order.
func (t *Tracker) Request(id string) []routers.StatusEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]routers.StatusEvent(nil), t.byRequest[id]...)
}

// Appeal returns the events received for an appeal, in arrival order.
func (t *Tracker) Appeal(number string) []routers.StatusEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]routers.StatusEvent(nil), t.byAppeal[number]...)
}

// Appeals returns every appeal number seen, sorted.
func (t *Tracker) Appeals() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.byAppeal))
	for n := range t.byAppeal {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Violations lists every breach of the ordering promise: per appeal, the
// distinct events as the portal would keep them (dropping repeats of a
// sequence already seen) must be 1, 2, 3 … in arrival order, with one event
// per sequence.
func (t *Tracker) Violations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for number, events := range t.byAppeal {
		seen := map[int]string{}
		next := 1
		for _, ev := range events {
			if id, ok := seen[ev.Sequence]; ok {
				if id != ev.EventID {
					out = append(out, fmt.Sprintf("%s: two different events with sequence %d", number, ev.Sequence))
				}
				continue
			}
			if ev.Sequence != next {
				out = append(out, fmt.Sprintf("%s: sequence %d arrived when %d was due", number, ev.Sequence, next))
			}
			seen[ev.Sequence] = ev.EventID
			next = ev.Sequence + 1
		}
	}
	sort.Strings(out)
	return out
}
