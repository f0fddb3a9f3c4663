package main

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// lateAnswers stands in front of a REST district and answers each appeal
// (POST /appeals) only after delay, or not at all if the caller gives up
// first.
type lateAnswers struct {
	next  http.Handler
	delay time.Duration
	calls atomic.Int64 // appeals received
}

func (l *lateAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/appeals" {
		l.calls.Add(1)
		// Read the body first: only then does the server notice a caller
		// that gives up while it waits.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(l.delay): // the district's own pace, not synchronisation
		case <-r.Context().Done():
			return
		}
	}
	l.next.ServeHTTP(w, r)
}

// TestDistrictTimeout: a district's own `timeout` bounds the calls to it,
// whichever way it differs from hub.district_timeout. A district that
// answers after 1 s gets its appeal delivered when its timeout is 5 s under
// a hub-wide 300 ms, and never when its timeout is 300 ms under a hub-wide 5 s.
func TestDistrictTimeout(t *testing.T) {
	t.Parallel()
	const code = "AZ-SAT"
	for _, tt := range []struct {
		name          string
		hub, district time.Duration
		delivered     bool
	}{
		{name: "LongerThanTheHubs", hub: 300 * time.Millisecond, district: 5 * time.Second, delivered: true},
		{name: "ShorterThanTheHubs", hub: 5 * time.Second, district: 300 * time.Millisecond, delivered: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			late := &lateAnswers{delay: time.Second}
			s := newStackWith(t, stackOptions{
				codes:           []string{code},
				hubTuning:       "retry_initial: 100ms, retry_max: 1s, district_timeout: " + tt.hub.String(),
				districtTimeout: map[string]time.Duration{code: tt.district},
				wrap: func(_ string, h http.Handler) http.Handler {
					late.next = h
					return late
				},
			})
			s.startHub()
			m := s.generatorWith(1, -1, -1).Next()
			require.Equal(t, portalsim.Registered, m.Outcome)
			s.publish(m)
			delivered := func() bool {
				for _, ev := range s.tracker.Request(m.ID) {
					if ev.Status == routers.StatusDelivered {
						return true
					}
				}
				return false
			}
			if tt.delivered {
				waitFor(t, 30*time.Second, "the slow district's appeal delivered", delivered)
				require.Equal(t, 1, s.districts[code].Created())
				return
			}
			// Every call gives up after 300 ms: the hub tries again and again.
			waitFor(t, 30*time.Second, "the hub to call the district a third time", func() bool { return late.calls.Load() >= 3 })
			require.False(t, delivered(), "an appeal the district never answered in time is not delivered")
			require.Zero(t, s.districts[code].Created(), "no call outlived the district's timeout")
		})
	}
}
