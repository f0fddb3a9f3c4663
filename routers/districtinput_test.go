package routers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestDistrictReportBounds: a status report whose text or time is out of
// bounds is refused naming the field, and nothing changes; one just inside
// every bound is taken.
func TestDistrictReportBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	h.waitEvent(id, routers.StatusDelivered)
	registered := h.appeal(firstNumber).RegisteredAt
	now := h.clock.Now

	report := func(r routers.StatusReport) error {
		r.District = "AZ-BIL"
		if r.AppealNumber == "" {
			r.AppealNumber = firstNumber
		}
		return h.hub.ReportStatus(context.Background(), r)
	}
	refused := []struct {
		name  string
		r     routers.StatusReport
		field string
		says  string
	}{
		{"NoteNUL", routers.StatusReport{Note: "cavab\x00verildi"}, "note", "U+0000 at character 6"},
		{"NoteC0", routers.StatusReport{Note: "\x01"}, "note", "U+0001"},
		{"NoteEscape", routers.StatusReport{Note: "\x1b[31m"}, "note", "U+001B"},
		{"NoteUnitSeparator", routers.StatusReport{Note: "a\x1f"}, "note", "U+001F"},
		{"NoteDEL", routers.StatusReport{Note: "a\x7f"}, "note", "U+007F"},
		{"NoteLineSeparator", routers.StatusReport{Note: "a\u2028b"}, "note", "U+2028"},
		{"NoteParagraphSeparator", routers.StatusReport{Note: "a\u2029b"}, "note", "U+2029"},
		{"NoteTooLong", routers.StatusReport{Note: strings.Repeat("ə", routers.MaxNoteRunes+1)}, "note", "4001 characters, more than 4000"},
		{"AppealNumberNUL", routers.StatusReport{AppealNumber: firstNumber + "\x00"}, "appeal_number", "U+0000"},
		{"AppealNumberTooLong", routers.StatusReport{AppealNumber: strings.Repeat("A", routers.MaxReferenceRunes+1)}, "appeal_number", "101 characters"},
		{"AtYear0000", routers.StatusReport{At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}, "at", "before the appeal's registration"},
		{"AtYear9999", routers.StatusReport{At: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}, "at", "ahead of the hub's clock"},
		{"AtJustBeforeRegistrationLessADay", routers.StatusReport{At: registered.Add(-24*time.Hour - time.Second)}, "at", "before the appeal's registration"},
		{"AtJustAfterNowPlusFiveMinutes", routers.StatusReport{At: now().Add(5*time.Minute + time.Second)}, "at", "ahead of the hub's clock"},
	}
	for _, tc := range refused {
		tc.r.Status = routers.StatusAnswered // would change the appeal, were it taken
		err := report(tc.r)
		require.ErrorIs(t, err, routers.ErrDistrictInput, tc.name)
		e, ok := errors.AsType[*routers.DistrictInputError](err)
		require.True(t, ok, "%s: %T %v", tc.name, err, err)
		require.Equal(t, tc.field, e.Field, tc.name)
		require.ErrorContains(t, err, tc.says, tc.name)
		require.NotContains(t, err.Error(), "cavab", "%s: the error quotes the text", tc.name)
	}
	require.Equal(t, routers.StatusDelivered, h.appeal(firstNumber).Status)
	require.Len(t, h.history(firstNumber), 2, "a refused report changed the appeal")
	require.InDelta(t, 8, testutil.ToFloat64(h.metricsOf().Refused.WithLabelValues("AZ-BIL", "note")), 0)
	require.InDelta(t, 4, testutil.ToFloat64(h.metricsOf().Refused.WithLabelValues("AZ-BIL", "at")), 0)

	// Just inside every bound; a repeat of the current status changes nothing.
	taken := []struct {
		name string
		r    routers.StatusReport
	}{
		{"NoteWithTabAndNewlines", routers.StatusReport{Note: "sətir 1\r\n\tsətir 2"}},
		{"NoteAtTheCap", routers.StatusReport{Note: strings.Repeat("ə", routers.MaxNoteRunes)}},
		{"AtRegistrationLessADay", routers.StatusReport{At: registered.Add(-24 * time.Hour)}},
		{"AtJustInsideNowPlusFiveMinutes", routers.StatusReport{At: now().Add(5*time.Minute - time.Second)}},
		{"NoAt", routers.StatusReport{}},
	}
	for _, tc := range taken {
		tc.r.Status = routers.StatusInProgress
		require.NoError(t, report(tc.r), tc.name)
	}
	hist := h.history(firstNumber)
	require.Len(t, hist, 3)
	require.Equal(t, routers.StatusInProgress, hist[2].Status)
	require.Equal(t, "sətir 1\r\n\tsətir 2", hist[2].Note)
	h.barrier()
	require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress}, statuses(h.eventsOf(id)))
}

// TestPolledChangesBounded: a polled change out of bounds is refused and
// logged, and polling goes on past it; the cursor never passes the hub's
// clock, and a change dated a little ahead is taken once the clock reaches it.
func TestPolledChangesBounded(t *testing.T) {
	t.Parallel()
	poller := &fakePoller{}
	h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}})
	id := deliveredAppeal(t, h)
	at := h.clock.Now().Add(-time.Minute)
	poller.add(
		routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusInProgress, Note: "NUL\x00", At: at},
		routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusInProgress, Note: strings.Repeat("ə", routers.MaxNoteRunes+1), At: at.Add(time.Second)},
		routers.DistrictChange{AppealNumber: firstNumber, Reference: strings.Repeat("9", routers.MaxReferenceRunes+1), Status: routers.StatusInProgress, At: at.Add(2 * time.Second)},
		routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusInProgress, Note: "icraya götürüldü", At: at.Add(3 * time.Second)},
		// Ahead of the hub's clock by a little more than the tolerance.
		routers.DistrictChange{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusAnswered, Note: "cavab", At: h.clock.Now().Add(5*time.Minute + 300*time.Millisecond)},
	)
	h.waitEvent(id, routers.StatusInProgress)
	waitUntil(t, "the early change refused", func() bool {
		return testutil.ToFloat64(h.metricsOf().Refused.WithLabelValues("AZ-BIL", "at")) >= 1
	})
	cursor, err := h.ledger.PollCursor(context.Background(), "AZ-BIL")
	require.NoError(t, err)
	require.False(t, cursor.After(h.clock.Now()), "the cursor %s passed the hub's clock", cursor)
	require.InDelta(t, 2, testutil.ToFloat64(h.metricsOf().Refused.WithLabelValues("AZ-BIL", "note")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Refused.WithLabelValues("AZ-BIL", "reference")), 0)

	// The hub's clock reaches the change: it is asked for again and taken.
	h.waitEvent(id, routers.StatusAnswered)
	hist := h.history(firstNumber)
	require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusAnswered},
		[]routers.Status{hist[0].Status, hist[1].Status, hist[2].Status, hist[3].Status})
	require.Equal(t, "icraya götürüldü", hist[2].Note)
	require.Equal(t, firstRef, h.appeal(firstNumber).DistrictRef)
}

// hostilePoller answers every query with the same page, whatever it asks.
type hostilePoller struct {
	mu     sync.Mutex
	page   routers.ChangePage
	limits []int
}

func (p *hostilePoller) Changes(_ context.Context, _ time.Time, limit int) (routers.ChangePage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limits = append(p.limits, limit)
	return p.page, nil
}

func (p *hostilePoller) State(context.Context, string) (routers.DistrictChange, error) {
	return routers.DistrictChange{}, &routers.PermanentError{Err: routers.ErrNotFound}
}

func (p *hostilePoller) asked() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.limits...)
}

// TestHostilePagesNeverLoop: a district dating its changes in year 0000 or
// 9999 and always saying more follow neither moves the cursor past the
// hub's clock nor keeps one round asking for ever bigger pages.
func TestHostilePagesNeverLoop(t *testing.T) {
	t.Parallel()
	for name, at := range map[string]time.Time{
		"Year0000": time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		"Year9999": time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			poller := &hostilePoller{page: routers.ChangePage{
				Changes: []routers.DistrictChange{{AppealNumber: firstNumber, Reference: "ESD-1", Status: routers.StatusClosed, At: at}},
				More:    true, Next: at,
			}}
			h := newHarnessWith(t, harnessOptions{pollers: map[string]routers.Poller{"AZ-BIL": poller}})
			id := deliveredAppeal(t, h)
			waitUntil(t, "two rounds", func() bool { return countOf(poller.asked(), 100) >= 2 })
			for _, limit := range poller.asked() {
				require.LessOrEqual(t, limit, 6400, "a round asked for ever bigger pages")
			}
			cursor, err := h.ledger.PollCursor(context.Background(), "AZ-BIL")
			require.NoError(t, err)
			require.False(t, cursor.After(h.clock.Now()), "the cursor %s passed the hub's clock", cursor)
			h.barrier()
			require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(h.eventsOf(id)))
		})
	}
}

func countOf(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// TestReconciliationRefusesBadState: a district state out of bounds is
// refused and counted; it does not block the other appeals.
func TestReconciliationRefusesBadState(t *testing.T) {
	t.Parallel()
	poller := &fakePoller{}
	h := newHarnessWith(t, harnessOptions{polled: map[string]*fakePoller{"AZ-BIL": poller}, reconcileAfter: time.Millisecond})
	secondRef := "REF-AZ-BIL-2026-000002"
	poller.setState(firstRef, routers.DistrictChange{Reference: firstRef, Status: routers.StatusAnswered, Note: "\u2028", At: h.clock.Now()})
	poller.setState(secondRef, routers.DistrictChange{Reference: secondRef, Status: routers.StatusAnswered, At: h.clock.Now()})
	first := deliveredAppeal(t, h)
	second := deliveredAppeal(t, h)
	h.waitEvent(second, routers.StatusAnswered)
	waitUntil(t, "the bad state refused", func() bool {
		return testutil.ToFloat64(h.metricsOf().Reconciled.WithLabelValues("AZ-BIL", "refused")) >= 1
	})
	h.barrier()
	require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(h.eventsOf(first)))
}
