package routers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestLastReport: korpu_district_last_report_timestamp_seconds is the hub's
// time of the district's last report that changed an appeal, by callback or
// poll; repeats and refused reports leave it alone.
func TestLastReport(t *testing.T) {
	t.Parallel()
	lastReport := func(h *harness, district string) float64 {
		return testutil.ToFloat64(h.m.LastReport.WithLabelValues(district))
	}
	requireWithin := func(t *testing.T, v float64, from, to time.Time) {
		t.Helper()
		require.GreaterOrEqual(t, v, float64(from.Unix()), "on the hub's clock (%s), not the wall clock", from)
		require.LessOrEqual(t, v, float64(to.Unix()))
	}

	t.Run("Callback", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		deliveredAppeal(t, h)
		require.Zero(t, testutil.CollectAndCount(h.m.LastReport), "no series before a district reports: zero would read as silence since 1970")

		before := h.clock.Now()
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress,
		}))
		requireWithin(t, lastReport(h, "AZ-BIL"), before, h.clock.Now())
		require.Equal(t, 1, testutil.CollectAndCount(h.m.LastReport), "AZ-SAT said nothing")

		h.m.LastReport.WithLabelValues("AZ-BIL").Set(0)
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress,
		}))
		require.Zero(t, lastReport(h, "AZ-BIL"), "a repeat is no news")

		before = h.clock.Now()
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusAnswered,
		}))
		requireWithin(t, lastReport(h, "AZ-BIL"), before, h.clock.Now())

		h.m.LastReport.WithLabelValues("AZ-BIL").Set(0)
		err := h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress,
		})
		require.ErrorIs(t, err, routers.ErrBackwardStep)
		require.Zero(t, lastReport(h, "AZ-BIL"), "a refused report is no news")
	})

	t.Run("Poll", func(t *testing.T) {
		t.Parallel()
		poller := &fakePoller{}
		h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}})
		id := deliveredAppeal(t, h)
		before := h.clock.Now()
		poller.add(routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusInProgress, At: before.Add(-time.Minute)})
		h.waitEvent(id, routers.StatusInProgress)
		waitUntil(t, "the gauge set", func() bool { return lastReport(h, "AZ-BIL") > 0 })
		requireWithin(t, lastReport(h, "AZ-BIL"), before, h.clock.Now())

		h.m.LastReport.WithLabelValues("AZ-BIL").Set(0)
		polls := poller.pollCount()
		waitUntil(t, "more polls, each repeating the last instant", func() bool { return poller.pollCount() >= polls+5 })
		require.Zero(t, lastReport(h, "AZ-BIL"), "ESD's repeats of the last instant are no news")
	})
}

type deadLetterCounts struct {
	open map[routers.DeadLetterKind]int
	err  error
}

func (c deadLetterCounts) OpenDeadLetters(context.Context) (map[routers.DeadLetterKind]int, error) {
	return c.open, c.err
}

// TestDeadLetterCollector: every kind has its series, zero included, and a
// ledger that does not answer leaves them out without failing the scrape.
func TestDeadLetterCollector(t *testing.T) {
	t.Parallel()
	c := routers.NewDeadLetterCollector(deadLetterCounts{open: map[routers.DeadLetterKind]int{routers.DeadAppeal: 3}})
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP korpu_dead_letters_open Dead letters waiting for an operator (neither replayed nor dropped), by kind: poison, appeal, comment.
# TYPE korpu_dead_letters_open gauge
korpu_dead_letters_open{kind="appeal"} 3
korpu_dead_letters_open{kind="comment"} 0
korpu_dead_letters_open{kind="poison"} 0
`)))
	down := routers.NewDeadLetterCollector(deadLetterCounts{err: errors.New("connection refused")})
	require.Zero(t, testutil.CollectAndCount(down))
}

// TestWorkingDayCollector: today in Baku, by the hub's calendar: holidays
// and weekends 0, a transferred working Saturday 1; past the known years,
// weekdays (as deadlines are then counted).
func TestWorkingDayCollector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		at   time.Time
		want float64
	}{
		{"FridayWorked", time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku), 1},
		{"Saturday", time.Date(2026, 11, 28, 10, 0, 0, 0, routers.Baku), 0},
		{"NovruzAndRamazan2026", time.Date(2026, 3, 20, 10, 0, 0, 0, routers.Baku), 0},
		{"NovruzByBakuNotUTC", time.Date(2026, 3, 19, 21, 0, 0, 0, time.UTC), 0}, // 01:00 on 20 March in Baku
		{"TransferredWorkingSaturday", time.Date(2025, 6, 21, 10, 0, 0, 0, routers.Baku), 1},
		{"UnknownYearMonday", time.Date(2040, 1, 2, 10, 0, 0, 0, routers.Baku), 1},
		{"UnknownYearSunday", time.Date(2040, 1, 1, 10, 0, 0, 0, routers.Baku), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := routers.NewWorkingDayCollector(calendar.Default(), func() time.Time { return tc.at })
			require.Equal(t, 1, testutil.CollectAndCount(c, "korpu_working_day"))
			require.Equal(t, tc.want, testutil.ToFloat64(c))
		})
	}
}
