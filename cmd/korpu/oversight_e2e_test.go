package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestOversightAcrossHubs runs three hub processes on the real broker and
// database, each sweeping every 20 ms, so that their sweeps overlap. The binary keeps the real clock,
// so the test makes appeals cross "now" by writing their deadlines into
// the ledger relative to today in Baku: yesterday (overdue), two working
// days ahead (due soon), ten ahead (neither); answered appeals past their
// deadline are never watched. Then it moves the deadlines once more: the
// overdue ones are extended into due soon (a new deadline arms them
// again), the due-soon ones fall overdue. Every crossing is exactly one
// event on the oversight queue, though three hubs raced for each.
func TestOversightAcrossHubs(t *testing.T) {
	t.Parallel()
	codes := []string{"AZ-BIL", "AZ-SAT"}
	s := newStackWith(t, stackOptions{
		codes: codes, hubs: 3, progress: []string{}, // the districts report nothing of their own
		hubTuning: "retry_initial: 100ms, retry_max: 1s, oversight_interval: 20ms",
	})
	events := subscribeOversight(t, s.topology, s.topics.Oversight)
	for i := range 3 {
		s.startHubAt(i)
	}

	// 24 appeals, delivered; the districts report nothing on their own.
	const perGroup = 6
	gen := s.generatorWith(17, -1, -1)
	var ids []string
	for len(ids) < 4*perGroup {
		m := gen.Next()
		if m.Outcome != portalsim.Registered {
			continue
		}
		ids = append(ids, m.ID)
		s.publish(m)
	}
	type appeal struct{ number, district string }
	appeals := make([]appeal, len(ids))
	waitFor(t, time.Minute, "every appeal delivered", func() bool {
		for i, id := range ids {
			delivered := false
			for _, ev := range s.tracker.Request(id) {
				delivered = delivered || ev.Status == routers.StatusDelivered
				appeals[i] = appeal{ev.AppealNumber, ev.District}
			}
			if !delivered {
				return false
			}
		}
		return true
	})
	overdue, dueSoon, later, answered := appeals[:perGroup], appeals[perGroup:2*perGroup], appeals[2*perGroup:3*perGroup], appeals[3*perGroup:]
	for _, a := range answered {
		districtReports(t, s.hubAddrs[0], a.district, a.number, routers.StatusAnswered)
	}

	cal := calendar.Default()
	today := calendar.Day(time.Now())
	yesterday := today.AddDate(0, 0, -1)
	soon, err := cal.AddWorkingDays(today, 2)
	require.NoError(t, err)
	farther, err := cal.AddWorkingDays(today, 10)
	require.NoError(t, err)
	worked, err := cal.IsWorkingDay(today)
	require.NoError(t, err)
	sinceYesterday := 0 // working days since yesterday's deadline: today, if it is worked
	if worked {
		sinceYesterday = -1
	}

	pool, err := postgres.Open(t.Context(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	// setDeadlines moves the deadlines of groups in one commit, so that
	// every hub's next sweep finds all of them crossing at once.
	type move struct {
		deadline time.Time
		groups   [][]appeal
	}
	setDeadlines := func(moves ...move) {
		t.Helper()
		require.NoError(t, pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
			for _, m := range moves {
				for _, g := range m.groups {
					for _, a := range g {
						if _, err := tx.Exec(t.Context(), `UPDATE appeals SET deadline = $2::date WHERE number = $1`, a.number, m.deadline.Format(time.DateOnly)); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}))
	}
	// want is what each (appeal, kind) must get: one event for this deadline.
	type key struct {
		number string
		kind   routers.OversightKind
	}
	type expected struct {
		deadline time.Time
		left     int
	}
	want := map[key]expected{}
	expect := func(kind routers.OversightKind, deadline time.Time, left int, group []appeal) {
		for _, a := range group {
			want[key{a.number, kind}] = expected{deadline, left}
		}
	}

	setDeadlines(move{yesterday, [][]appeal{overdue, answered}}, move{soon, [][]appeal{dueSoon}}, move{farther, [][]appeal{later}})
	expect(routers.OversightOverdue, yesterday, sinceYesterday, overdue)
	expect(routers.OversightDueSoon, soon, 2, dueSoon)
	waitFor(t, 30*time.Second, "the first crossings' events", func() bool { return len(events()) >= len(want) })

	setDeadlines(move{soon, [][]appeal{overdue}}, move{yesterday, [][]appeal{dueSoon}}) // the overdue ones extended
	expect(routers.OversightDueSoon, soon, 2, overdue)
	expect(routers.OversightOverdue, yesterday, sinceYesterday, dueSoon)
	waitFor(t, 30*time.Second, "the second crossings' events", func() bool { return len(events()) >= len(want) })
	// A repeat could only come later: watch fifty more sweeps of every hub.
	holds(t, time.Second, "no more events", func() bool { return len(events()) == len(want) })

	byAppeal := map[string]appeal{}
	for _, a := range appeals {
		byAppeal[a.number] = a
	}
	got := map[key]int{}
	for _, ev := range events() {
		k := key{ev.AppealNumber, ev.Kind}
		got[k]++
		w, ok := want[k]
		require.True(t, ok, "an event nobody crossed for: %+v", ev.OversightEvent)
		require.Equal(t, routers.OversightEvent{
			EventID: ev.EventID, Kind: k.kind, AppealNumber: k.number, District: byAppeal[k.number].district, Service: ev.Service,
			Deadline: w.deadline.Format(time.DateOnly), WorkingDaysLeft: w.left, Status: routers.StatusDelivered, At: ev.At,
		}, ev.OversightEvent)
		require.NotEmpty(t, ev.Service)
		require.Equal(t, ev.EventID, ev.messageID, "the event id is the message id")
	}
	for k := range want {
		require.Equal(t, 1, got[k], "events of %s %s", k.number, k.kind)
	}

	// The hubs counted one claim per crossing between them.
	var claims []float64
	total := 0.0
	for _, addr := range s.hubAddrs {
		n := counterSum(t, scrapeMetrics(t, addr), "korpu_oversight_events_total")
		claims = append(claims, n)
		total += n
	}
	require.InDelta(t, float64(len(want)), total, 0, "claims per hub: %v", claims)
	t.Logf("%d crossings, claimed by the three hubs %v", len(want), claims)
}

// oversightSeen is one message of the oversight queue.
type oversightSeen struct {
	routers.OversightEvent
	messageID string
}

// subscribeOversight consumes the oversight queue until the test ends and
// returns what it has received so far.
func subscribeOversight(t *testing.T, topo *amqp.Topology, queue string) func() []oversightSeen {
	t.Helper()
	sub, err := amqp.NewSubscriber(amqp.Config{URL: amqpURL(), Topology: topo}, watermill.NopLogger{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); _ = sub.Close() })
	msgs, err := sub.Subscribe(ctx, queue)
	require.NoError(t, err)
	var (
		mu   sync.Mutex
		seen []oversightSeen
	)
	go func() {
		for msg := range msgs {
			var ev routers.OversightEvent
			if err := json.Unmarshal(msg.Payload, &ev); err != nil {
				t.Errorf("oversight event is not JSON: %v", err)
			}
			mu.Lock()
			seen = append(seen, oversightSeen{OversightEvent: ev, messageID: msg.Metadata.Get(amqp.MetadataMessageID)})
			mu.Unlock()
			msg.Ack()
		}
	}()
	return func() []oversightSeen {
		mu.Lock()
		defer mu.Unlock()
		return append([]oversightSeen(nil), seen...)
	}
}

// districtReports posts a district's status report to a hub.
func districtReports(t *testing.T, hubAddr, code, number string, status routers.Status) {
	t.Helper()
	body := fmt.Sprintf(`{"appeal_number": %q, "status": %q, "note": "cavab verildi"}`, number, status)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+hubAddr+"/v1/districts/"+code+"/status", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+callbackToken(code))
	req.Header.Set("Content-Type", "application/json")
	resp, err := openapitest.Client(t).Do(req) // the answer as schemas/openapi.yaml says
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s of %s", status, number)
}

// holds fails unless cond stays true for the whole of d: an absence can
// only be seen over a span of time.
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		require.True(t, cond(), what)
	}
}

// counterSum is the sum of every series of the counter name on a /metrics
// page; 0 when it has none yet.
func counterSum(t *testing.T, page, name string) float64 {
	t.Helper()
	dec := expfmt.NewDecoder(strings.NewReader(page), expfmt.NewFormat(expfmt.TypeTextPlain))
	sum := 0.0
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return sum
		}
		require.NoError(t, err)
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
}
