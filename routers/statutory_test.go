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

// otherBody is a competent body that is no district on the hub.
const otherBody = "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi"

// workingDaysOn is the n-th working day after start's day, by the harness's calendar.
func workingDaysOn(t *testing.T, start time.Time, n int) string {
	t.Helper()
	due, err := testCalendar().AddWorkingDays(start, n)
	require.NoError(t, err)
	return due.Format(time.DateOnly)
}

// noonOf is midday in Baku of the day d (YYYY-MM-DD).
func noonOf(t *testing.T, d string) time.Time {
	t.Helper()
	day, err := time.ParseInLocation(time.DateOnly, d, routers.Baku)
	require.NoError(t, err)
	return day.Add(12 * time.Hour)
}

// delivered registers the first appeal of h and waits for its delivery; it
// returns the request id.
func (h *harness) delivered() string {
	h.t.Helper()
	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	h.waitEvent(id, routers.StatusDelivered)
	return id
}

// report sends a district's report, at the hub's clock less a minute.
func (h *harness) report(r routers.StatusReport) error {
	h.t.Helper()
	if r.At.IsZero() {
		r.At = h.clock.Now().Add(-time.Minute).Truncate(time.Second)
	}
	return h.hub.ReportStatus(context.Background(), r)
}

// waitSequences waits until the portal has seen events 1…n of number and
// returns them.
func (h *harness) waitSequences(number string, n int) []observed {
	h.t.Helper()
	require.Eventuallyf(h.t, func() bool { return len(h.eventsOfAppeal(number)) >= n }, waitFor, 2*time.Millisecond,
		"%s: fewer than %d events", number, n)
	evs := h.eventsOfAppeal(number)
	require.Len(h.t, evs, n, "%s: more events than expected: %v", number, statuses(evs))
	return evs
}

// testStatutory: the extension of a deadline and forwarding (contract §4
// v1.1), with the clock started on any day.
func testStatutory(t *testing.T, start time.Time) {
	var (
		first    = appealNumber(start, 1)
		due      = workingDaysOn(t, start, 15)
		extended = workingDaysOn(t, start, 30)
	)
	newHarness := func(t *testing.T) *harness { return newHarnessWith(t, harnessOptions{start: start}) }

	t.Run("Extension", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.delivered()
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress,
			Note: "baxılır", Extend: true, Reason: "Yerində əlavə yoxlama lazımdır"}))
		evs := h.waitSequences(first, 3)
		require.Equal(t, due, evs[1].Deadline, "delivered carries the first deadline")
		require.Equal(t, routers.StatusInProgress, evs[2].Status)
		require.Equal(t, extended, evs[2].Deadline, "in_progress carries the new deadline: 30 working days after registration")
		require.True(t, strings.HasPrefix(evs[2].Note, "baxılır\n"), evs[2].Note)
		require.Contains(t, evs[2].Note, extended)
		require.Contains(t, evs[2].Note, "Yerində əlavə yoxlama lazımdır")

		a := h.appeal(first)
		require.Equal(t, extended, a.Deadline)
		require.True(t, a.Extended)
		require.Equal(t, "Yerində əlavə yoxlama lazımdır", a.ExtensionReason)
		require.False(t, a.ExtendedAt.IsZero())
		require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Extended.WithLabelValues("AZ-BIL")), 0)

		// Once per appeal: a second one is refused and changes nothing.
		err := h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress, Extend: true, Reason: "yenə"})
		require.ErrorIs(t, err, routers.ErrAlreadyExtended)
		require.Contains(t, err.Error(), extended, "the refusal says to when it was extended")
		require.Equal(t, 3, h.appeal(first).Sequence)
		require.Equal(t, "Yerində əlavə yoxlama lazımdır", h.appeal(first).ExtensionReason)

		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusAnswered}))
		evs = h.waitSequences(first, 4)
		require.Equal(t, extended, evs[3].Deadline, "every later event carries the extended deadline")
		require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Extended.WithLabelValues("AZ-BIL")), 0)
	})

	t.Run("ExtensionWhileInProgress", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.delivered()
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress}))
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress}),
			"a repeat without extend changes nothing")
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress,
			Extend: true, Reason: "ekspertiza"}))
		evs := h.waitSequences(first, 4)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusInProgress}, statuses(evs))
		require.Equal(t, due, evs[2].Deadline)
		require.Equal(t, extended, evs[3].Deadline, "the extension of an appeal in progress is an in_progress event of its own")
		require.Contains(t, evs[3].Note, "ekspertiza")
		require.ErrorIs(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress,
			Extend: true, Reason: "ekspertiza"}), routers.ErrAlreadyExtended, "a repeat of the extension is a second one")
		h.barrier()
		require.Len(t, h.eventsOfAppeal(first), 4)
	})

	t.Run("ReportRules", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.delivered()
		long := strings.Repeat("ə", routers.MaxForwardedToRunes+1)
		refused := []struct {
			name   string
			report routers.StatusReport
			field  string
		}{
			{"ExtendOnAnswered", routers.StatusReport{Status: routers.StatusAnswered, Extend: true, Reason: "r"}, "extend"},
			{"ExtendWithoutReason", routers.StatusReport{Status: routers.StatusInProgress, Extend: true}, "reason"},
			{"ExtendWithBlankReason", routers.StatusReport{Status: routers.StatusInProgress, Extend: true, Reason: " \t"}, "reason"},
			{"ReasonWithoutExtend", routers.StatusReport{Status: routers.StatusInProgress, Reason: "r"}, "reason"},
			{"ReasonTooLong", routers.StatusReport{Status: routers.StatusInProgress, Extend: true, Reason: strings.Repeat("ə", routers.MaxReasonRunes+1)}, "reason"},
			{"ReasonWithControl", routers.StatusReport{Status: routers.StatusInProgress, Extend: true, Reason: "a\x1bb"}, "reason"},
			{"ForwardedWithoutBody", routers.StatusReport{Status: routers.StatusForwarded}, "forwarded_to"},
			{"ForwardedToOnInProgress", routers.StatusReport{Status: routers.StatusInProgress, ForwardedTo: "AZ-SAT"}, "forwarded_to"},
			{"ForwardedToItself", routers.StatusReport{Status: routers.StatusForwarded, ForwardedTo: "AZ-BIL"}, "forwarded_to"},
			{"ForwardedToWithSpaces", routers.StatusReport{Status: routers.StatusForwarded, ForwardedTo: " AZ-SAT"}, "forwarded_to"},
			{"ForwardedToTooLong", routers.StatusReport{Status: routers.StatusForwarded, ForwardedTo: long}, "forwarded_to"},
			{"ForwardedToWithControl", routers.StatusReport{Status: routers.StatusForwarded, ForwardedTo: "Nazirlik\u2028"}, "forwarded_to"},
		}
		for _, tc := range refused {
			tc.report.District, tc.report.AppealNumber = "AZ-BIL", first
			err := h.report(tc.report)
			require.ErrorIs(t, err, routers.ErrDistrictInput, tc.name)
			e, ok := errors.AsType[*routers.DistrictInputError](err)
			require.True(t, ok, tc.name)
			require.Equal(t, tc.field, e.Field, tc.name)
		}
		a := h.appeal(first)
		require.Equal(t, routers.StatusDelivered, a.Status, "nothing refused changed the appeal")
		require.Equal(t, 2, a.Sequence)
		require.Equal(t, due, a.Deadline)
		require.Equal(t, routers.Statutory{}, a.Statutory)

		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusAnswered}))
		err := h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress, Extend: true, Reason: "gec"})
		require.ErrorIs(t, err, routers.ErrBackwardStep, "no extension once answered")
		require.Equal(t, due, h.appeal(first).Deadline)
	})

	t.Run("ForwardedToAnotherBody", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.delivered()
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded,
			Note: "aidiyyəti üzrə", ForwardedTo: otherBody}))
		evs := h.waitSequences(first, 3)
		require.Equal(t, routers.StatusForwarded, evs[2].Status)
		require.Equal(t, "AZ-BIL", evs[2].District)
		require.Equal(t, due, evs[2].Deadline)
		require.True(t, strings.HasPrefix(evs[2].Note, "aidiyyəti üzrə\n"), evs[2].Note)
		require.Contains(t, evs[2].Note, otherBody)

		a := h.appeal(first)
		require.Equal(t, "AZ-BIL", a.District, "the appeal leaves the hub")
		require.Equal(t, otherBody, a.ForwardedTo)
		require.Equal(t, "AZ-BIL", a.ForwardedBy)
		require.False(t, a.ForwardedLate)
		require.Empty(t, a.Forwarders)
		require.Empty(t, h.districts["AZ-SAT"].submitsOf(first))
		require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-BIL", "false")), 0)

		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: otherBody}),
			"a repeat is accepted")
		require.ErrorIs(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}),
			routers.ErrForwardConflict, "forwarded once, not to a second body")
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusClosed}))
		evs = h.waitSequences(first, 4)
		require.Equal(t, routers.StatusClosed, evs[3].Status)
		// Counted after the commit, which the portal may see first: the poll runs on its own.
		require.Eventually(t, func() bool {
			return testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-BIL", "false")) == 1
		}, 5*time.Second, time.Millisecond)
	})

	t.Run("ForwardedOnTheHub", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		id := h.delivered()
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
		evs := h.waitSequences(first, 4)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusForwarded, routers.StatusDelivered}, statuses(evs))
		require.Equal(t, []string{"AZ-BIL", "AZ-BIL", "AZ-BIL", "AZ-SAT"}, districtsOf(evs), "the history shows both authorities")
		require.Contains(t, evs[2].Note, "AZ-SAT", "forwarded names where to")
		require.Contains(t, evs[3].Note, "REF-"+first, "delivered carries the new district's reference")
		for _, ev := range evs {
			require.Equal(t, id, ev.RequestID)
			require.Equal(t, due, ev.Deadline, "the deadline stays the one counted from registration")
		}

		calls := h.districts["AZ-SAT"].submitsOf(first)
		require.Len(t, calls, 1, "the same appeal, a new delivery")
		require.Equal(t, first, calls[0].s.AppealNumber)
		require.Equal(t, due, calls[0].s.Deadline)
		require.Equal(t, id, calls[0].s.Request.ID)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(first), 1)

		a := h.appeal(first)
		require.Equal(t, "AZ-SAT", a.District)
		require.Equal(t, routers.StatusDelivered, a.Status)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.Equal(t, "AZ-BIL", a.ForwardedBy)
		require.Equal(t, "AZ-SAT", a.ForwardedTo)
		require.Equal(t, []string{"AZ-BIL"}, a.Forwarders)

		// The district that forwarded may no longer touch the appeal, but
		// for repeating its forwarding; the new one goes on.
		require.ErrorIs(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusAnswered}), routers.ErrForeignAppeal)
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
		require.ErrorIs(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: otherBody}),
			routers.ErrForeignAppeal)
		require.ErrorIs(t, h.report(routers.StatusReport{District: "AZ-SAT", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-BIL"}),
			routers.ErrForwardConflict, "back to a district that forwarded it: its system knows the number already")
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-SAT", AppealNumber: first, Status: routers.StatusInProgress}))

		// Comments go to the authority that holds the appeal.
		comment, commentID := h.body("comment.json", map[string]any{"appeal_number": first, "submitted_at": start.Add(-10 * time.Minute).Format(time.RFC3339)})
		h.publish(comment)
		h.waitEvent(commentID, routers.StatusCommented)
		got := h.districts["AZ-SAT"].commentsReceived()
		require.Len(t, got, 1)
		require.Equal(t, "REF-"+first, got[0].Reference)
		require.Empty(t, h.districts["AZ-BIL"].commentsReceived())

		require.NoError(t, h.report(routers.StatusReport{District: "AZ-SAT", AppealNumber: first, Status: routers.StatusAnswered}))
		evs = h.waitSequences(first, 7)
		require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, sequences(evs), "one sequence across both authorities")
		require.Equal(t, []routers.Status{routers.StatusInProgress, routers.StatusCommented, routers.StatusAnswered}, statuses(evs[4:]))
		require.Equal(t, []string{"AZ-SAT", "AZ-SAT", "AZ-SAT"}, districtsOf(evs[4:]))
		require.Equal(t, sequencesOf(h.history(first)), sequences(evs), "the ledger's history is what the portal saw")
		// Counted after the commit, which the portal may see first: the poll runs on its own.
		require.Eventually(t, func() bool {
			return testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-BIL", "false")) == 1
		}, 5*time.Second, time.Millisecond)
	})

	t.Run("ForwardedToAPolledDistrict", func(t *testing.T) {
		t.Parallel()
		poller := &fakePoller{}
		h := newHarnessWith(t, harnessOptions{start: start, polled: map[string]*fakePoller{"AZ-SAT": poller}})
		h.delivered()
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
		h.waitSequences(first, 4)
		at := h.clock.Now().Truncate(time.Second)
		poller.add(
			routers.DistrictChange{AppealNumber: first, Reference: "REF-" + first, Status: routers.StatusDelivered, At: at},
			routers.DistrictChange{AppealNumber: first, Reference: "REF-" + first, Status: routers.StatusInProgress, At: at.Add(time.Second)},
			// ESD has no place for the body's name.
			routers.DistrictChange{AppealNumber: first, Reference: "REF-" + first, Status: routers.StatusForwarded, Note: "Nazirliyə göndərildi", At: at.Add(2 * time.Second)},
		)
		evs := h.waitSequences(first, 6)
		require.Equal(t, []routers.Status{routers.StatusInProgress, routers.StatusForwarded}, statuses(evs[4:]))
		require.Equal(t, []string{"AZ-SAT", "AZ-SAT"}, districtsOf(evs[4:]))
		require.Equal(t, "Nazirliyə göndərildi", evs[5].Note)
		a := h.appeal(first)
		require.Equal(t, "AZ-SAT", a.District)
		require.Equal(t, "AZ-SAT", a.ForwardedBy)
		require.Empty(t, a.ForwardedTo, "an ESD district cannot name the body")
		require.Equal(t, []string{"AZ-BIL"}, a.Forwarders)
		require.False(t, a.InTransfer())
		// Counted after the commit, which the portal may see first: the poll runs on its own.
		require.Eventually(t, func() bool {
			return testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-SAT", "false")) == 1
		}, 5*time.Second, time.Millisecond)
	})

	t.Run("ForwardedWhileTheSubmitIsOut", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		h.districts["AZ-BIL"].setHook(func(ctx context.Context) error {
			once.Do(func() { close(entered) })
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return &routers.TransientError{Err: ctx.Err()}
			}
		})
		body, _ := h.body("request-appeal.json", nil)
		h.publish(body)
		select {
		case <-entered:
		case <-time.After(waitFor):
			t.Fatal("the district was not called")
		}
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
		// AZ-BIL's answer comes after the appeal moved on. (The harness's
		// relay waits for AZ-BIL's job to be acked before it publishes more.)
		close(release)
		require.Eventually(t, func() bool { return h.appeal(first).Delivery.State == routers.DeliveryDelivered }, waitFor, 2*time.Millisecond,
			"AZ-SAT's delivery settles")
		h.barrier()
		a := h.appeal(first)
		require.Equal(t, "AZ-SAT", a.District)
		require.Equal(t, "REF-"+first, a.DistrictRef)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusForwarded, routers.StatusDelivered},
			statuses(h.eventsOfAppeal(first)), "the late answer of the district that forwarded adds nothing")
		require.Equal(t, []string{"AZ-BIL", "AZ-BIL", "AZ-BIL", "AZ-SAT"}, districtsOf(h.eventsOfAppeal(first)))
	})

	t.Run("ForwardedLate", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.delivered()
		second, secondID := h.body("request-appeal.json", nil)
		h.publish(second)
		h.waitEvent(secondID, routers.StatusDelivered)
		last := workingDaysOn(t, start, 3)

		h.clock.moveTo(noonOf(t, last)) // the last day in time
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: otherBody}))
		require.False(t, h.appeal(first).ForwardedLate, "forwarded on the 3rd working day after registration")

		h.clock.moveTo(noonOf(t, last).AddDate(0, 0, 1))
		require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: appealNumber(start, 2), Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
		late := h.appeal(appealNumber(start, 2))
		require.True(t, late.ForwardedLate, "forwarded the day after")
		require.Equal(t, "AZ-SAT", late.District)
		require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-BIL", "false")), 0)
		require.InDelta(t, 1, testutil.ToFloat64(h.metricsOf().Forwarded.WithLabelValues("AZ-BIL", "true")), 0)
		h.waitSequences(appealNumber(start, 2), 4) // delivered to AZ-SAT days later, on the same number
	})
}

// TestStatutoryCalendar pins the law's days across the 2026 Novruz and
// Ramazan holidays (20–30 March not worked) and 2025's Saturday 21 June,
// worked in place of Friday 27 June: the extended deadline is the 30th
// working day after registration, forwarding is on time up to the 3rd.
func TestStatutoryCalendar(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                  string
		start                 time.Time
		due, extended, onTime string
	}{
		// Wednesday 18 March 2026: Thursday 19th, then nothing before Tuesday 31st.
		{"Novruz2026", time.Date(2026, 3, 18, 11, 0, 0, 0, routers.Baku), "2026-04-17", "2026-05-08", "2026-04-01"},
		// Thursday 19 March 2026: the day before the holidays; 30 working days cross Victory Day's Monday 11 May.
		{"NovruzEve2026", time.Date(2026, 3, 19, 17, 30, 0, 0, routers.Baku), "2026-04-20", "2026-05-12", "2026-04-02"},
		// Thursday 19 June 2025: Friday, the Saturday worked, Monday.
		{"TransferredSaturday2025", time.Date(2025, 6, 19, 11, 0, 0, 0, routers.Baku), "2025-07-11", "2025-08-01", "2025-06-23"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{start: tc.start})
			first, second := appealNumber(tc.start, 1), appealNumber(tc.start, 2)
			h.delivered()
			body, id := h.body("request-appeal.json", nil)
			h.publish(body)
			h.waitEvent(id, routers.StatusDelivered)
			require.Equal(t, tc.due, h.appeal(first).Deadline)
			require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusInProgress, Extend: true, Reason: "yoxlama"}))
			require.Equal(t, tc.extended, h.waitSequences(first, 3)[2].Deadline)

			h.clock.moveTo(noonOf(t, tc.onTime).Add(11 * time.Hour)) // 23:00 of the last day in time
			require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: first, Status: routers.StatusForwarded, ForwardedTo: "AZ-SAT"}))
			a := h.appeal(first)
			require.False(t, a.ForwardedLate, "forwarded on %s", tc.onTime)
			require.Equal(t, tc.extended, a.Deadline, "forwarding keeps the deadline, extended or not")
			require.Equal(t, tc.extended, h.waitSequences(first, 5)[4].Deadline, "and the new district gets it")
			require.Equal(t, tc.extended, h.districts["AZ-SAT"].submitsOf(first)[0].s.Deadline)

			h.clock.moveTo(noonOf(t, tc.onTime).Add(12*time.Hour + 2*time.Minute)) // reported at 00:01 of the next day
			require.NoError(t, h.report(routers.StatusReport{District: "AZ-BIL", AppealNumber: second, Status: routers.StatusForwarded, ForwardedTo: otherBody}))
			require.True(t, h.appeal(second).ForwardedLate, "forwarded the day after %s", tc.onTime)
			require.Equal(t, tc.due, h.appeal(second).Deadline)
		})
	}
}

func districtsOf(evs []observed) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.District
	}
	return out
}
