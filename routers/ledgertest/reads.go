package ledgertest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// The citizens of the reads' tests; draft files for finA.
const (
	finA = "5XK3P2M"
	finB = "7QW2RT9"
)

// citizenDraft is a request of fin for service in district, registered at at.
func citizenDraft(requestID, district, fin, service string, at time.Time) routers.Appeal {
	d := draft(requestID, district, at)
	d.FIN, d.Service = fin, service
	return d
}

// newestFirst sorts appeals as a citizen's history lists them.
func newestFirst(appeals []routers.Appeal) []string {
	sorted := slices.Clone(appeals)
	slices.SortFunc(sorted, func(x, y routers.Appeal) int {
		return cmp.Or(y.RegisteredAt.Compare(x.RegisteredAt), cmp.Compare(y.Number, x.Number))
	})
	return numbers(sorted)
}

func summaryNumbers(list []routers.AppealSummary) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Number
	}
	return out
}

// appealsOf reads one page of fin's history.
func appealsOf(t *testing.T, l Ledger, fin string, filter routers.HistoryFilter, after routers.HistoryPosition, limit int) []routers.AppealSummary {
	t.Helper()
	list, err := l.AppealsOf(t.Context(), fin, filter, after, limit)
	require.NoError(t, err)
	return list
}

// allPages reads fin's whole history limit appeals at a time, each page
// after the last one's final appeal, as the portal's cursor does.
func allPages(t *testing.T, l Ledger, fin string, filter routers.HistoryFilter, limit int) []string {
	t.Helper()
	var (
		out   []string
		after routers.HistoryPosition
	)
	for range 1000 {
		page := appealsOf(t, l, fin, filter, after, limit)
		require.LessOrEqual(t, len(page), limit)
		if len(page) == 0 {
			return out
		}
		out = append(out, summaryNumbers(page)...)
		last := page[len(page)-1]
		after = routers.HistoryPosition{RegisteredAt: last.RegisteredAt, Number: last.Number}
	}
	t.Fatal("paging does not end")
	return nil
}

// eventAt is when ev happened.
func eventAt(t *testing.T, ev routers.StatusEvent) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, ev.At)
	require.NoError(t, err)
	return at
}

// moveTo advances an appeal to status with its next event and returns it.
func moveTo(t *testing.T, l Ledger, number string, status routers.Status) routers.StatusEvent {
	t.Helper()
	var ev routers.StatusEvent
	require.NoError(t, l.UpdateAppeal(t.Context(), number, func(a *routers.Appeal) (routers.Effects, error) {
		a.Sequence++
		a.Status = status
		ev = event(*a, a.Sequence, status)
		return emit(ev), nil
	}))
	drain(t, l)
	return ev
}

func testReads(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("HistoryIsTheCitizensOwnNewestFirst", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		later := registeredAt.Add(time.Hour)
		first := registerDrained(t, l, citizenDraft("a-1", bil, finA, "reception", registeredAt))
		tiedBIL := registerDrained(t, l, citizenDraft("a-2", bil, finA, "appeal", later))
		tiedNRM := registerDrained(t, l, citizenDraft("a-3", nrm, finA, "reception", later))
		registerDrained(t, l, citizenDraft("b-1", bil, finB, "reception", later.Add(time.Hour)))
		// Registered last, numbered last, yet the oldest: the order is by registration time.
		oldest := registerDrained(t, l, citizenDraft("a-4", bil, finA, "reception", registeredAt.Add(-24*time.Hour)))

		got := appealsOf(t, l, finA, routers.HistoryFilter{}, routers.HistoryPosition{}, 10)
		// At the same instant the greater number comes first.
		require.Equal(t, []string{tiedNRM.Number, tiedBIL.Number, first.Number, oldest.Number}, summaryNumbers(got))

		s := got[1]
		require.Equal(t, tiedBIL.Number, s.Number)
		require.Equal(t, bil, s.District)
		require.Equal(t, "appeal", s.Service)
		require.Equal(t, "complaint", s.Type)
		require.Equal(t, routers.StatusRegistered, s.Status)
		requireTime(t, tiedBIL.SubmittedAt, s.SubmittedAt, "SubmittedAt")
		requireTime(t, tiedBIL.RegisteredAt, s.RegisteredAt, "RegisteredAt")
		require.Equal(t, tiedBIL.Deadline, s.Deadline)
		requireTime(t, eventAt(t, event(tiedBIL, 1, routers.StatusRegistered)), s.ChangedAt, "ChangedAt")

		require.Equal(t, []string{tiedNRM.Number, tiedBIL.Number},
			summaryNumbers(appealsOf(t, l, finA, routers.HistoryFilter{}, routers.HistoryPosition{}, 2)), "limit")
		require.Empty(t, appealsOf(t, l, finA, routers.HistoryFilter{}, routers.HistoryPosition{}, 0))
		require.Len(t, appealsOf(t, l, finB, routers.HistoryFilter{}, routers.HistoryPosition{}, 10), 1)
		// A FİN nobody filed under, or one no store could hold: nothing, and no error.
		for _, fin := range []string{"9ZZ9ZZ9", "", "5XK\x003P", "5XK\xff3P"} {
			require.Empty(t, appealsOf(t, l, fin, routers.HistoryFilter{}, routers.HistoryPosition{}, 10), "%q", fin)
		}
	})

	t.Run("PagingYieldsEveryAppealOnce", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		var mine []routers.Appeal
		for i := range 23 {
			// Five instants, so most pages end inside a run of equal times.
			at := registeredAt.Add(time.Duration(i%5) * time.Hour)
			district := []string{bil, nrm}[i%2]
			mine = append(mine, register(t, l, citizenDraft(fmt.Sprintf("a-%d", i), district, finA, "reception", at)))
			register(t, l, citizenDraft(fmt.Sprintf("b-%d", i), district, finB, "reception", at))
		}
		want := newestFirst(mine)
		require.Equal(t, want, summaryNumbers(appealsOf(t, l, finA, routers.HistoryFilter{}, routers.HistoryPosition{}, 100)))
		for _, limit := range []int{1, 4, 5, 22, 23, 24} {
			require.Equal(t, want, allPages(t, l, finA, routers.HistoryFilter{}, limit), "pages of %d", limit)
		}
		// A position between stored appeals: strictly after it.
		after := routers.HistoryPosition{RegisteredAt: registeredAt.Add(2*time.Hour + time.Minute), Number: "AZ-ZZZ"}
		var older []routers.Appeal
		for _, a := range mine {
			if a.RegisteredAt.Before(after.RegisteredAt) {
				older = append(older, a)
			}
		}
		require.Equal(t, newestFirst(older), summaryNumbers(appealsOf(t, l, finA, routers.HistoryFilter{}, after, 100)))
	})

	t.Run("FiltersByStatusAndService", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		var all []routers.Appeal
		for i := range 12 {
			service := []string{"reception", "appeal", "reception"}[i%3]
			a := registerDrained(t, l, citizenDraft(fmt.Sprintf("a-%d", i), bil, finA, service, registeredAt.Add(time.Duration(i)*time.Minute)))
			if i%2 == 0 {
				moveTo(t, l, a.Number, routers.StatusDelivered)
				a.Status = routers.StatusDelivered
			}
			all = append(all, a)
		}
		// Another citizen's delivered appeal for the same service matches no filter of finA's.
		b := registerDrained(t, l, citizenDraft("b-1", bil, finB, "appeal", registeredAt))
		moveTo(t, l, b.Number, routers.StatusDelivered)

		matching := func(f routers.HistoryFilter) []string {
			var out []routers.Appeal
			for _, a := range all {
				if (f.Status == "" || a.Status == f.Status) && (f.Service == "" || a.Service == f.Service) {
					out = append(out, a)
				}
			}
			return newestFirst(out)
		}
		for _, f := range []routers.HistoryFilter{
			{Status: routers.StatusDelivered},
			{Status: routers.StatusRegistered},
			{Service: "appeal"},
			{Status: routers.StatusDelivered, Service: "appeal"},
			{Status: routers.StatusRegistered, Service: "reception"},
		} {
			want := matching(f)
			require.NotEmpty(t, want, "%+v", f)
			require.Equal(t, want, summaryNumbers(appealsOf(t, l, finA, f, routers.HistoryPosition{}, 100)), "%+v", f)
			require.Equal(t, want, allPages(t, l, finA, f, 1), "%+v one at a time", f)
		}
		require.Empty(t, appealsOf(t, l, finA, routers.HistoryFilter{Status: routers.StatusAnswered}, routers.HistoryPosition{}, 100))
		require.Empty(t, appealsOf(t, l, finA, routers.HistoryFilter{Service: "no-such-service"}, routers.HistoryPosition{}, 100))
		require.Empty(t, appealsOf(t, l, finA, routers.HistoryFilter{Service: "appeal\x00"}, routers.HistoryPosition{}, 100))
		require.Empty(t, appealsOf(t, l, finA, routers.HistoryFilter{Status: "delivered\xff"}, routers.HistoryPosition{}, 100))
	})

	t.Run("ChangedAtFollowsTheLastEvent", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := registerDrained(t, l, draft("req-1", bil, registeredAt))
		summary := func() routers.AppealSummary {
			list := appealsOf(t, l, finA, routers.HistoryFilter{}, routers.HistoryPosition{}, 10)
			require.Len(t, list, 1)
			return list[0]
		}
		requireTime(t, eventAt(t, event(a, 1, routers.StatusRegistered)), summary().ChangedAt, "after registration")

		delivered := moveTo(t, l, a.Number, routers.StatusDelivered)
		requireTime(t, eventAt(t, delivered), summary().ChangedAt, "after delivery")

		c := comment("c-1", a)
		addComment(t, l, c)
		var commented routers.StatusEvent
		require.NoError(t, l.UpdateComment(t.Context(), c.ID, func(c *routers.Comment, ap *routers.Appeal) (routers.Effects, error) {
			c.Delivery.State = routers.DeliveryDelivered
			ap.Sequence++
			commented = event(*ap, ap.Sequence, routers.StatusCommented)
			return emit(commented), nil
		}))
		drain(t, l)
		s := summary()
		requireTime(t, eventAt(t, commented), s.ChangedAt, "after a comment's event")
		require.Equal(t, routers.StatusDelivered, s.Status, "a comment is no status")
	})

	t.Run("RecordHasHistoryAndCommentsInOrder", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := registerDrained(t, l, draft("req-1", bil, registeredAt))
		quiet := registerDrained(t, l, draft("req-2", bil, registeredAt))
		events := []routers.StatusEvent{event(want, 1, routers.StatusRegistered)}
		events = append(events, moveTo(t, l, want.Number, routers.StatusDelivered), moveTo(t, l, want.Number, routers.StatusInProgress))
		want.Status, want.Sequence = routers.StatusInProgress, 3

		// Added in another order than submitted.
		var comments []routers.Comment
		for i, after := range []time.Duration{48 * time.Hour, 24 * time.Hour, 36 * time.Hour} {
			c := comment(fmt.Sprintf("c-%d", i), want)
			c.SubmittedAt = want.RegisteredAt.Add(after).Truncate(time.Second)
			addComment(t, l, c)
			comments = append(comments, c)
		}
		setCommentDelivery(t, l, "c-1", routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1})
		comments[1].Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1}

		rec, err := l.AppealRecord(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, rec.Appeal)
		requireEvents(t, events, rec.Events)
		require.Len(t, rec.Comments, 3)
		for i, c := range []routers.Comment{comments[1], comments[2], comments[0]} {
			requireComment(t, c, rec.Comments[i])
		}

		rec, err = l.AppealRecord(t.Context(), quiet.Number)
		require.NoError(t, err)
		requireAppeal(t, quiet, rec.Appeal)
		requireEvents(t, registered(quiet).Events, rec.Events)
		require.Empty(t, rec.Comments)
	})

	t.Run("RecordOfUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		registerDrained(t, l, draft("req-1", bil, registeredAt))
		// The last two are numbers no store could hold: asked for from outside, they are simply not there.
		for _, n := range []string{number(bil, 2026, 2), number(nrm, 2026, 1), "", "AZ-BIL-2026-\x00", "AZ-BIL-2026-\xff"} {
			_, err := l.AppealRecord(t.Context(), n)
			require.ErrorIs(t, err, routers.ErrNotFound, "%q", n)
		}
	})

	t.Run("BookedCountsRegisteredBookings", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		i := 0
		book := func(official, date string) error {
			i++
			d := draft(fmt.Sprintf("req-%d", i), bil, registeredAt)
			_, err := l.Register(t.Context(), d, &routers.Booking{OfficialID: official, Date: date, Capacity: 2}, numberOf(d), registered)
			return err
		}
		for _, b := range []struct{ official, date string }{
			{"off-1", "2026-03-20"}, {"off-1", "2026-03-20"}, {"off-1", "2026-03-24"}, {"off-2", "2026-03-20"},
		} {
			require.NoError(t, book(b.official, b.date))
		}
		require.ErrorIs(t, book("off-1", "2026-03-20"), routers.ErrReceptionFull)
		register(t, l, draft("unbooked", bil, registeredAt))

		booked := func(official string, days ...string) map[string]int {
			got, err := l.Booked(t.Context(), official, days)
			require.NoError(t, err)
			return got
		}
		require.Equal(t, map[string]int{"2026-03-20": 2, "2026-03-24": 1}, booked("off-1", "2026-03-20", "2026-03-23", "2026-03-24"))
		require.Equal(t, map[string]int{"2026-03-24": 1}, booked("off-1", "2026-03-24", "2026-03-26"))
		require.Equal(t, map[string]int{"2026-03-20": 1}, booked("off-2", "2026-03-20", "2026-03-24"))
		require.Empty(t, booked("off-3", "2026-03-20"))
		require.Empty(t, booked("off-1"))
	})
}
