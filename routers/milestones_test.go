package routers_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestMilestones: the update that takes each step records it for the
// monitors, on the hub's clock; the answer's working days and whether it
// met the deadline are counted at the district's time of the answer, on
// the calendar, across the 2026 Novruz holidays (20–30 March not worked).
func TestMilestones(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 18, 11, 0, 0, 0, routers.Baku) // Wednesday
	h := newHarnessWith(t, harnessOptions{start: start})
	first, second, third, fourth := appealNumber(start, 1), appealNumber(start, 2), appealNumber(start, 3), appealNumber(start, 4)
	h.delivered()
	for range 3 {
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		h.waitEvent(id, routers.StatusDelivered)
	}
	a := h.appeal(first)
	require.False(t, a.DeliveredAt.Before(start), "delivered on the hub's clock")
	require.True(t, a.InProgressAt.IsZero())
	require.True(t, a.AnsweredAt.IsZero())

	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress}))
	inProgress := h.appeal(first).InProgressAt
	require.False(t, inProgress.IsZero())
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress,
		Extend: true, Reason: "yoxlama"}))
	require.Equal(t, inProgress, h.appeal(first).InProgressAt, "the first in_progress")

	// Reported on 1 April, answered (the district says) on Tuesday 31
	// March: Thursday 19 March and that Tuesday are the working days.
	reported := time.Date(2026, 4, 1, 12, 0, 0, 0, routers.Baku)
	h.clock.moveTo(reported)
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusAnswered,
		At: time.Date(2026, 3, 31, 16, 0, 0, 0, routers.Baku)}))
	a = h.appeal(first)
	require.False(t, a.AnsweredAt.Before(reported), "the hub's clock: when it learned of the answer, %s", a.AnsweredAt)
	require.Equal(t, 2, a.AnswerDays)
	require.True(t, a.OnTime)
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusClosed}))
	require.False(t, h.appeal(first).ClosedAt.Before(reported))
	require.Equal(t, a.AnsweredAt, h.appeal(first).AnsweredAt, "answered once")

	// Past the deadline (Friday 17 April): Monday 20 April is the 16th working day.
	require.Equal(t, "2026-04-17", h.appeal(second).Deadline)
	h.clock.moveTo(time.Date(2026, 4, 20, 15, 0, 0, 0, routers.Baku))
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: second, Status: routers.StatusRejected}))
	b := h.appeal(second)
	require.Equal(t, 16, b.AnswerDays)
	require.False(t, b.OnTime)

	// Forwarded off the hub, it is answered; on the hub, not yet.
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: third, Status: routers.StatusForwarded, ForwardedTo: otherBody}))
	c := h.appeal(third)
	require.False(t, c.AnsweredAt.IsZero())
	require.False(t, c.OnTime)
	require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: fourth, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
	require.True(t, h.appeal(fourth).AnsweredAt.IsZero(), "awaiting AZ-SAT's answer")
}

// TestRefusalsAreCounted: an invalid request is counted for the district
// it named when the hub serves it (for the country only otherwise), by
// its first field refused, cut to MaxRefusedField bytes at a rune's end;
// an invalid comment is no appeal's refusal.
func TestRefusalsAreCounted(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{})
	long := "appeal.ə" + strings.Repeat("ə", 40) // 2 bytes a rune
	body, id := h.body("request-appeal.json", map[string]any{long: "1"})
	h.publish(body)
	h.waitEvent(id, routers.StatusInvalid)
	body, id = h.body("request-appeal.json", map[string]any{"district": "AZ-XXX"})
	h.publish(body)
	h.waitEvent(id, routers.StatusInvalid)
	body, id = h.body("comment.json", map[string]any{"appeal_number": "AZ-BIL-2026-999999"})
	h.publish(body)
	h.waitEvent(id, routers.StatusInvalid)

	day := calendar.Day(h.clock.Now())
	figures, err := h.ledger.Figures(t.Context(), routers.Period{From: day, To: day.AddDate(0, 0, 1)}, "", "")
	require.NoError(t, err)
	require.Equal(t, 1, figures["AZ-BIL"].Invalid)
	field := figures["AZ-BIL"].TopInvalid[0].Field
	require.LessOrEqual(t, len(field), routers.MaxRefusedField)
	require.True(t, strings.HasPrefix(long, field) && utf8.ValidString(field), field)
	require.Equal(t, 2, figures[""].Invalid, "the request for no district the hub serves, and no comment")
	require.NotContains(t, figures, "AZ-XXX")
}
