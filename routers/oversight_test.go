package routers_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

// sweepWatch is a ledger that tells which days the oversight sweep has
// claimed for, so a test knows the sweep has looked after moving the clock.
type sweepWatch struct {
	ledgertest.Ledger
	mu    sync.Mutex
	swept map[string]string // today → the due-soon date the sweep asked with
}

func (w *sweepWatch) ClaimCrossings(ctx context.Context, today, dueSoonBy string, limit int, event func(routers.Crossing) routers.OutboxMessage) ([]routers.Crossing, error) {
	claimed, err := w.Ledger.ClaimCrossings(ctx, today, dueSoonBy, limit, event)
	if err == nil {
		w.mu.Lock()
		w.swept[today] = dueSoonBy
		w.mu.Unlock()
	}
	return claimed, err
}

// sweptOn waits for a completed sweep on the Baku day of day and returns
// the due-soon date it used.
func (w *sweepWatch) sweptOn(t *testing.T, day string) string {
	t.Helper()
	var dueSoonBy string
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		var ok bool
		dueSoonBy, ok = w.swept[day]
		return ok
	}, waitFor, time.Millisecond, "no oversight sweep on %s", day)
	return dueSoonBy
}

// oversightSeen is one message of the oversight topic.
type oversightSeen struct {
	routers.OversightEvent
	metadata message.Metadata
}

// TestOversightAcrossNovruz moves the hub's clock day by day over the 2026
// Novruz and Ramazan holidays (20–30 March): an appeal registered on
// 26 February is due on 31 March, the 15th working day. It is due soon,
// with 3 working days left, on 17 March, fourteen calendar days before its
// deadline (counted in calendar days or weekdays it would be far later),
// and overdue on 1 April; each crossing is one event, however many sweeps
// run on each day. An answered appeal with the same deadline gives none.
func TestOversightAcrossNovruz(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 2, 26, 10, 0, 0, 0, routers.Baku)
	watch := &sweepWatch{swept: map[string]string{}}
	h := newHarnessWith(t, harnessOptions{start: start, ledger: func(_ *testing.T, now func() time.Time) ledgertest.Ledger {
		watch.Ledger = memory.NewLedger(now)
		return watch
	}})
	msgs, err := h.pubsub.Subscribe(t.Context(), topics.Oversight)
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
			seen = append(seen, oversightSeen{OversightEvent: ev, metadata: msg.Metadata})
			mu.Unlock()
			msg.Ack()
		}
	}()
	events := func() []oversightSeen {
		mu.Lock()
		defer mu.Unlock()
		return append([]oversightSeen(nil), seen...)
	}

	watchedBody, watchedID := h.body("request-appeal.json", nil)
	h.publish(watchedBody)
	registered := h.waitEvent(watchedID, routers.StatusRegistered)
	require.Equal(t, "2026-03-31", registered.Deadline, "15 working days, the holidays skipped")
	h.waitEvent(watchedID, routers.StatusDelivered)
	require.NoError(t, h.hub.ReportStatus(t.Context(), routers.StatusReport{
		District: "AZ-BIL", AppealNumber: registered.AppealNumber, Status: routers.StatusInProgress, At: h.clock.Now(),
	}))
	answeredBody, answeredID := h.body("request-appeal.json", map[string]any{"citizen.fin": "6YH2K9P"})
	h.publish(answeredBody)
	answered := h.waitEvent(answeredID, routers.StatusRegistered)
	require.Equal(t, "2026-03-31", answered.Deadline)
	h.waitEvent(answeredID, routers.StatusDelivered)
	require.NoError(t, h.hub.ReportStatus(t.Context(), routers.StatusReport{
		District: "AZ-BIL", AppealNumber: answered.AppealNumber, Status: routers.StatusAnswered, At: h.clock.Now(),
	}))

	steps := []struct {
		day       string
		dueSoonBy string // WatchDates: the day before the 4th working day after
		want      routers.OversightKind
		left      int
	}{
		{day: "2026-02-26", dueSoonBy: "2026-03-03"},
		{day: "2026-03-13", dueSoonBy: "2026-03-18"},
		{day: "2026-03-16", dueSoonBy: "2026-03-30"}, // 17, 18, 19 and 31 March left: 4
		{day: "2026-03-17", dueSoonBy: "2026-03-31", want: routers.OversightDueSoon, left: 3},
		{day: "2026-03-18", dueSoonBy: "2026-04-01"},
		{day: "2026-03-20", dueSoonBy: "2026-04-02"}, // a holiday
		{day: "2026-03-26", dueSoonBy: "2026-04-02"}, // 3 weekdays left: a weekday count would cross here
		{day: "2026-03-31", dueSoonBy: "2026-04-05"}, // due today
		{day: "2026-04-01", dueSoonBy: "2026-04-06", want: routers.OversightOverdue, left: -1},
		{day: "2026-04-02", dueSoonBy: "2026-04-07"},
		{day: "2026-04-06", dueSoonBy: "2026-04-09"},
	}
	var want []routers.OversightKind
	for _, step := range steps {
		day, err := time.ParseInLocation(time.DateOnly, step.day, routers.Baku)
		require.NoError(t, err)
		if step.day != "2026-02-26" {
			h.clock.moveTo(day.Add(9 * time.Hour))
		}
		require.Equal(t, step.dueSoonBy, watch.sweptOn(t, step.day), step.day)
		if step.want != "" {
			want = append(want, step.want)
			require.Eventually(t, func() bool { return len(events()) >= len(want) }, waitFor, time.Millisecond, "no %s event on %s", step.want, step.day)
			ev := events()[len(want)-1]
			require.Equal(t, routers.OversightEvent{
				EventID: ev.EventID, Kind: step.want, AppealNumber: registered.AppealNumber, District: "AZ-BIL", Service: "appeal",
				Deadline: "2026-03-31", WorkingDaysLeft: step.left, Status: routers.StatusInProgress, At: ev.At,
			}, ev.OversightEvent, step.day)
			require.Equal(t, ev.EventID, ev.metadata.Get("message_id"), "the event id is the message id")
			at, err := time.Parse(time.RFC3339, ev.At)
			require.NoError(t, err)
			require.Equal(t, step.day, at.In(routers.Baku).Format(time.DateOnly), "seen on the day it crossed")
		}
	}
	// Every event committed before the barrier's has been published.
	h.barrier()
	var got []routers.OversightKind
	for _, ev := range events() {
		require.Equal(t, registered.AppealNumber, ev.AppealNumber, "the answered appeal is never watched")
		got = append(got, ev.Kind)
	}
	require.Equal(t, want, got, "one event per crossing, though the sweep ran many times each day")
	require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Oversight.WithLabelValues("due_soon", "AZ-BIL")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Oversight.WithLabelValues("overdue", "AZ-BIL")), 0)
}

// TestWatchDates: the due-soon date is the day before the 4th working day
// after today, on the calendar's working days, a transferred working day
// included; past the known years it counts weekdays, and says so.
func TestWatchDates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		now             time.Time
		today, dueSoon  string
		unknownCalendar bool
	}{
		{now: time.Date(2026, 3, 17, 0, 0, 0, 0, routers.Baku), today: "2026-03-17", dueSoon: "2026-03-31"},
		{now: time.Date(2026, 3, 16, 23, 59, 0, 0, routers.Baku), today: "2026-03-16", dueSoon: "2026-03-30"},
		// Baku is 4 hours ahead.
		{now: time.Date(2026, 3, 16, 20, 30, 0, 0, time.UTC), today: "2026-03-17", dueSoon: "2026-03-31"},
		// A Friday: Monday, Tuesday and Wednesday left.
		{now: time.Date(2026, 11, 27, 12, 0, 0, 0, routers.Baku), today: "2026-11-27", dueSoon: "2026-12-02"},
		// Saturday 21 June was worked.
		{now: time.Date(2025, 6, 19, 12, 0, 0, 0, routers.Baku), today: "2025-06-19", dueSoon: "2025-06-23"},
		// 2031 is not in the embedded calendar: weekdays only.
		{now: time.Date(2031, 3, 19, 12, 0, 0, 0, routers.Baku), today: "2031-03-19", dueSoon: "2031-03-24", unknownCalendar: true},
	} {
		today, dueSoon, err := routers.WatchDates(calendar.Default(), c.now)
		require.Equal(t, c.today, today, c.now)
		require.Equal(t, c.dueSoon, dueSoon, c.now)
		if c.unknownCalendar {
			require.ErrorIs(t, err, calendar.ErrUnknownYear)
		} else {
			require.NoError(t, err)
		}
	}
}
