package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// districtGate stands in front of a district's simulator: it can answer
// every Submit 503 (with a Retry-After of an hour), hold each Submit until
// released, or let the district take the next Submit but answer only after
// the hub gave up.
type districtGate struct {
	next http.Handler

	mu       sync.Mutex
	refuse   bool
	hold     chan struct{} // non-nil: Submits wait for it to close
	lateNext bool
	entered  chan struct{} // receives once per Submit that reached the gate
}

func (g *districtGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/appeals" {
		g.next.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	refuse, hold, late := g.refuse, g.hold, g.lateNext
	g.lateNext = false
	g.mu.Unlock()
	select {
	case g.entered <- struct{}{}:
	default:
	}
	if refuse {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	// Read the body first: only then does the server notice a caller that
	// gives up while the gate waits.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch {
	case late:
		// The hub hears nothing before its timeout, and the district takes
		// the appeal just as the hub gives up.
		<-r.Context().Done()
		g.next.ServeHTTP(httptest.NewRecorder(), r)
		return
	case hold != nil:
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

func (g *districtGate) set(refuse bool, hold chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refuse, g.hold = refuse, hold
}

// TestCallbackCannotStopDelivery, through the real binary, database and
// HTTP: a status callback on an appeal the district has not acknowledged is
// 409 and changes nothing, and the appeal is delivered later; a callback
// that overtakes the answer of a Submit in flight, or comes after a Submit
// that went unanswered, is accepted, and the delivery goes on.
func TestCallbackCannotStopDelivery(t *testing.T) {
	t.Parallel()
	const code = "AZ-BIL"
	gate := &districtGate{entered: make(chan struct{}, 1)}
	s := newStackWith(t, stackOptions{
		codes: []string{code},
		// A short district_timeout for the unanswered Submit, ample for the others.
		hubTuning: "retry_initial: 100ms, retry_max: 1s, district_timeout: 2s",
		wrap: func(_ string, h http.Handler) http.Handler {
			gate.next = h
			return gate
		},
	})
	s.startHub()
	pool, err := postgres.Open(t.Context(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ledger := postgres.NewLedger(pool, time.Now)
	gen := s.generatorWith(11, -1, -1)

	// register publishes one valid request and returns its number once the
	// district has been called for it.
	register := func() string {
		t.Helper()
		select {
		case <-gate.entered: // an earlier appeal's call
		default:
		}
		m := gen.Next()
		require.Equal(t, portalsim.Registered, m.Outcome)
		s.publish(m)
		select {
		case <-gate.entered:
		case <-time.After(time.Minute):
			t.Fatal("the district was not called")
		}
		var number string
		waitFor(t, time.Minute, "registered", func() bool {
			if evs := s.tracker.Request(m.ID); len(evs) > 0 {
				number = evs[0].AppealNumber
			}
			return number != ""
		})
		return number
	}
	callback := func(number string, status routers.Status) (int, string) {
		t.Helper()
		body := fmt.Sprintf(`{"appeal_number": %q, "status": %q, "note": "baxılır"}`, number, status)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.hubAddr+"/v1/districts/"+code+"/status", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+callbackToken(code))
		req.Header.Set("Content-Type", "application/json")
		resp, err := openapitest.Client(t).Do(req) // every answer as schemas/openapi.yaml says
		require.NoError(t, err)
		defer resp.Body.Close()
		var answer map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		detail, _ := answer["detail"].(string) // a problem's; an acceptance has none
		return resp.StatusCode, detail
	}
	statusesOf := func(number string) []routers.Status {
		var out []routers.Status
		for _, ev := range distinctBySequence(s.tracker.Appeal(number)) {
			out = append(out, ev.Status)
		}
		return out
	}
	answered := []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusAnswered}

	// The subtests share the hub and the gate, so they run one after the other.
	t.Run("PrematureIsRefused", func(t *testing.T) {
		gate.set(true, nil)
		number := register()
		waitFor(t, time.Minute, "the delivery postponed", func() bool {
			a, err := ledger.Appeal(t.Context(), number)
			require.NoError(t, err)
			return !a.Delivery.NextAttemptAt.IsZero()
		})
		before, err := ledger.Appeal(t.Context(), number)
		require.NoError(t, err)

		got, msg := callback(number, routers.StatusInProgress)
		require.Equal(t, http.StatusConflict, got)
		require.Contains(t, msg, "not been delivered")
		after, err := ledger.Appeal(t.Context(), number)
		require.NoError(t, err)
		require.Equal(t, before, after, "a refused report changes nothing")
		history, err := ledger.History(t.Context(), number)
		require.NoError(t, err)
		require.Len(t, history, 1)
		require.Equal(t, routers.DeliveryPending, after.Delivery.State)

		// The district is back (as when its breaker closes): delivered after all.
		gate.set(false, nil)
		_, err = ledger.Expedite(t.Context(), code, time.Now())
		require.NoError(t, err)
		waitFor(t, time.Minute, "answered", func() bool { return len(statusesOf(number)) == len(answered) })
		require.Equal(t, answered, statusesOf(number))
		a, err := ledger.Appeal(t.Context(), number)
		require.NoError(t, err)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.NotEmpty(t, a.DistrictRef)
	})

	t.Run("OvertakingIsAccepted", func(t *testing.T) {
		release := make(chan struct{})
		var once sync.Once
		open := func() { once.Do(func() { close(release) }) }
		t.Cleanup(open)
		gate.set(false, release)
		number := register() // its Submit now waits in the gate

		got, msg := callback(number, routers.StatusInProgress)
		require.Equal(t, http.StatusOK, got, msg)
		a, err := ledger.Appeal(t.Context(), number)
		require.NoError(t, err)
		require.Equal(t, routers.StatusInProgress, a.Status)
		require.Equal(t, routers.DeliveryPending, a.Delivery.State, "only the district's answer settles the delivery")

		open()
		waitFor(t, time.Minute, "answered", func() bool { return len(statusesOf(number)) == len(answered) })
		require.Equal(t, answered, statusesOf(number))
		a, err = ledger.Appeal(t.Context(), number)
		require.NoError(t, err)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.NotEmpty(t, a.DistrictRef)
	})
	t.Run("UnansweredSubmitStillReported", func(t *testing.T) {
		gate.set(false, nil)
		gate.mu.Lock()
		gate.lateNext = true
		gate.mu.Unlock()
		number := register()
		// The district took the appeal as the hub gave up waiting, and reports
		// on it at once, while the hub, which heard nothing, retries: the
		// reports stand.
		waitFor(t, time.Minute, "answered", func() bool { return len(statusesOf(number)) == len(answered) })
		require.Equal(t, answered, statusesOf(number))
		var a routers.Appeal
		waitFor(t, time.Minute, "delivered", func() bool {
			var err error
			a, err = ledger.Appeal(t.Context(), number)
			require.NoError(t, err)
			return a.Delivery.State == routers.DeliveryDelivered
		})
		require.False(t, a.Delivery.Unanswered)
		require.Equal(t, 2, s.districts[code].Received()[number], "delivered again until the district answered")
	})
	require.Empty(t, s.tracker.Violations())
}
