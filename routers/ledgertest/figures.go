package ledgertest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// The figures' tests write as the hub writes (Register, RecordInvalid,
// UpdateAppeal with the milestones the hub sets, dead letters) and ask
// over periods whose days are partly over and partly not by the ledger's
// clock (Epoch, 2031-03-20 09:00 Baku): a ledger that rolls up the days
// that are over must give what one counting every appeal afresh gives.

// sat is a third district, for forwardings on.
const sat = "AZ-SAT"

// baku is a time in Baku.
func baku(year int, month time.Month, day, hour, minute, sec int) time.Time {
	return time.Date(year, month, day, hour, minute, sec, 0, routers.Baku)
}

// period is [from, to) of Baku days YYYY-MM-DD.
func period(t *testing.T, from, to string) routers.Period {
	t.Helper()
	f, err := time.ParseInLocation(time.DateOnly, from, routers.Baku)
	require.NoError(t, err)
	e, err := time.ParseInLocation(time.DateOnly, to, routers.Baku)
	require.NoError(t, err)
	return routers.Period{From: f, To: e}
}

// filed registers an appeal of district for service of kind by fin at at.
func filed(t *testing.T, l Ledger, id, district, fin, service, kind string, at time.Time) routers.Appeal {
	t.Helper()
	d := draft(id, district, at)
	d.FIN, d.Service, d.Type = fin, service, kind
	return registerDrained(t, l, d)
}

// change updates an appeal as the hub does: fn's changes, and with a
// status the next event of it.
func change(t *testing.T, l Ledger, number string, status routers.Status, fn func(*routers.Appeal)) routers.Appeal {
	t.Helper()
	var out routers.Appeal
	require.NoError(t, l.UpdateAppeal(t.Context(), number, func(a *routers.Appeal) (routers.Effects, error) {
		fn(a)
		var eff routers.Effects
		if status != "" {
			a.Sequence++
			a.Status = status
			eff = emit(event(*a, a.Sequence, status))
		}
		out = *a
		return eff, nil
	}))
	drain(t, l)
	return out
}

// delivered hands an appeal over at at.
func delivered(t *testing.T, l Ledger, number string, at time.Time) routers.Appeal {
	t.Helper()
	return change(t, l, number, routers.StatusDelivered, func(a *routers.Appeal) {
		a.Delivery = routers.Delivery{State: routers.DeliveryDelivered, Attempts: 1}
		a.DeliveredAt = at
	})
}

// answer ends an appeal with status (answered or rejected), seen by the
// hub at at, after days working days, on time or not.
func answer(t *testing.T, l Ledger, number string, status routers.Status, at time.Time, days int, onTime bool) routers.Appeal {
	t.Helper()
	return change(t, l, number, status, func(a *routers.Appeal) {
		a.AnsweredAt, a.AnswerDays, a.OnTime = at, days, onTime
	})
}

// forward forwards an appeal from its district to another on the hub
// (to a code of the suite) or to another body, at at (the district's
// time); off the hub, that is its answer.
func forward(t *testing.T, l Ledger, number, to string, at time.Time, late bool) routers.Appeal {
	t.Helper()
	return change(t, l, number, routers.StatusForwarded, func(a *routers.Appeal) {
		a.ForwardedTo, a.ForwardedBy, a.ForwardedAt, a.ForwardedLate = to, a.District, at, late
		if to == bil || to == nrm || to == sat {
			a.Forwarders = append(a.Forwarders, a.District)
			a.District, a.DistrictRef = to, ""
			a.Delivery = routers.Delivery{State: routers.DeliveryPending}
			return
		}
		a.AnsweredAt, a.AnswerDays, a.OnTime = at, 2, !late
	})
}

// figures asks both Figures and DistrictFigures and checks they agree.
func figures(t *testing.T, l Ledger, p routers.Period, today, dueSoonBy string) map[string]routers.Figures {
	t.Helper()
	all, err := l.Figures(t.Context(), p, today, dueSoonBy)
	require.NoError(t, err)
	require.Contains(t, all, "", "the country is always there")
	for code, f := range all {
		require.Equal(t, code, f.District)
		if code == "" {
			continue
		}
		one, err := l.DistrictFigures(t.Context(), code, p, today, dueSoonBy)
		require.NoError(t, err)
		require.Equal(t, f, one, "DistrictFigures(%s) as Figures gives it", code)
	}
	return all
}

// registrations are the figures of what was registered.
type registrations struct {
	Received, Registered, Repeat int
	ByType, ByService            map[string]int
}

func registrationsOf(f routers.Figures) registrations {
	return registrations{f.Received, f.Registered, f.Repeat, f.ByType, f.ByService}
}

func testFigures(t *testing.T, newLedger func(*testing.T) Ledger) {
	today, dueSoonBy := "2031-03-20", "2031-03-25"

	t.Run("RegistrationsByTypeServiceAndRepeat", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		// Before the period: r-0 exactly a year before r-1, r-9 a second
		// more than a year before r-4.
		filed(t, l, "r-0", bil, "F000001", "appeal", "complaint", baku(2030, 1, 20, 10, 0, 0))
		filed(t, l, "r-9", bil, "F000003", "appeal", "complaint", baku(2030, 3, 5, 9, 59, 59))
		filed(t, l, "x-1", bil, "F000005", "appeal", "complaint", baku(2031, 1, 14, 23, 59, 59))
		// A day of January, February whole, days of March, today.
		filed(t, l, "r-1", bil, "F000001", "appeal", "complaint", baku(2031, 1, 20, 10, 0, 0))
		filed(t, l, "r-2", bil, "F000001", "appeal", "application", baku(2031, 2, 10, 11, 0, 0))
		r3 := filed(t, l, "r-3", bil, "F000002", "reception", "proposal", baku(2031, 2, 11, 12, 0, 0))
		forward(t, l, r3.Number, nrm, baku(2031, 2, 12, 9, 0, 0), false) // still BIL's registration
		filed(t, l, "r-4", bil, "F000003", "appeal", "complaint", baku(2031, 3, 5, 10, 0, 0))
		filed(t, l, "r-5", bil, "F000002", "reception", "complaint", baku(2031, 3, 20, 8, 0, 0))
		filed(t, l, "n-1", nrm, "F000001", "appeal", "complaint", baku(2031, 2, 15, 9, 0, 0))
		filed(t, l, "n-3", nrm, "F000004", "housing", "application", baku(2031, 3, 19, 23, 59, 59))
		filed(t, l, "n-2", nrm, "F000004", "housing", "application", baku(2031, 3, 20, 0, 30, 0)) // 2031-03-19 in UTC

		p := period(t, "2031-01-15", "2031-03-21")
		wantBIL := registrations{Received: 5, Registered: 5, Repeat: 3, // r-1 (the year's bound), r-2, r-5
			ByType:    map[string]int{"complaint": 3, "application": 1, "proposal": 1},
			ByService: map[string]int{"appeal": 3, "reception": 2}}
		wantNRM := registrations{Received: 3, Registered: 3, Repeat: 1, // n-2
			ByType:    map[string]int{"complaint": 1, "application": 2},
			ByService: map[string]int{"appeal": 1, "housing": 2}}
		wantCountry := registrations{Received: 8, Registered: 8, Repeat: 4,
			ByType:    map[string]int{"complaint": 4, "application": 3, "proposal": 1},
			ByService: map[string]int{"appeal": 4, "reception": 2, "housing": 2}}
		got := figures(t, l, p, today, dueSoonBy)
		require.Equal(t, wantBIL, registrationsOf(got[bil]))
		require.Equal(t, wantNRM, registrationsOf(got[nrm]))
		require.Equal(t, wantCountry, registrationsOf(got[""]))

		// Today goes on: the day not over is read as it is now.
		filed(t, l, "r-6", bil, "F000006", "appeal", "complaint", baku(2031, 3, 20, 8, 30, 0))
		wantBIL.Received, wantBIL.Registered = 6, 6
		wantBIL.ByType["complaint"], wantBIL.ByService["appeal"] = 4, 4
		got = figures(t, l, p, today, dueSoonBy)
		require.Equal(t, wantBIL, registrationsOf(got[bil]))

		before := figures(t, l, period(t, "2031-01-15", "2031-03-20"), today, dueSoonBy)
		require.Equal(t, 4, before[bil].Registered, "the period ends before today")
		require.Equal(t, 2, before[nrm].Registered)

		// Once today is over, it counts the same.
		clockOf(t).advance(48 * time.Hour)
		got = figures(t, l, p, today, dueSoonBy)
		require.Equal(t, wantBIL, registrationsOf(got[bil]))
		require.Equal(t, wantNRM, registrationsOf(got[nrm]))

		empty := figures(t, l, period(t, "2031-03-21", "2031-03-22"), today, dueSoonBy)
		require.Zero(t, empty[""].Registered)
		none, err := l.DistrictFigures(t.Context(), "AZ-XXX", p, today, dueSoonBy)
		require.NoError(t, err)
		require.Equal(t, "AZ-XXX", none.District)
		require.Zero(t, none.Registered)
	})

	t.Run("AppealsPerDay", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		filed(t, l, "d-1", bil, "F000001", "appeal", "application", baku(2031, 2, 10, 11, 0, 0))
		filed(t, l, "d-2", nrm, "F000002", "appeal", "proposal", baku(2031, 2, 11, 12, 0, 0))
		filed(t, l, "d-3", bil, "F000003", "appeal", "complaint", baku(2031, 3, 19, 23, 59, 59))
		filed(t, l, "d-4", bil, "F000004", "appeal", "complaint", baku(2031, 3, 20, 0, 30, 0))
		filed(t, l, "d-5", nrm, "F000005", "appeal", "application", baku(2031, 3, 20, 8, 0, 0))

		// February is whole in the period, yet counted by the day.
		perDay, err := l.AppealsPerDay(t.Context(), "", period(t, "2031-01-31", "2031-03-02"))
		require.NoError(t, err)
		require.Len(t, perDay, 30, "every day, none left out")
		require.Equal(t, "2031-01-31", perDay[0].Date)
		require.Equal(t, "2031-03-01", perDay[29].Date)
		require.Equal(t, routers.DayCount{Date: "2031-02-10", ByType: map[string]int{"application": 1}}, perDay[10])
		require.Equal(t, routers.DayCount{Date: "2031-02-11", ByType: map[string]int{"proposal": 1}}, perDay[11])
		require.Equal(t, routers.DayCount{Date: "2031-02-12", ByType: map[string]int{}}, perDay[12])

		want := []routers.DayCount{
			{Date: "2031-03-19", ByType: map[string]int{"complaint": 1}},
			{Date: "2031-03-20", ByType: map[string]int{"complaint": 1, "application": 1}}, // today, not over
			{Date: "2031-03-21", ByType: map[string]int{}},
		}
		perDay, err = l.AppealsPerDay(t.Context(), "", period(t, "2031-03-19", "2031-03-22"))
		require.NoError(t, err)
		require.Equal(t, want, perDay)
		perDay, err = l.AppealsPerDay(t.Context(), bil, period(t, "2031-03-19", "2031-03-21"))
		require.NoError(t, err)
		require.Equal(t, []routers.DayCount{
			{Date: "2031-03-19", ByType: map[string]int{"complaint": 1}},
			{Date: "2031-03-20", ByType: map[string]int{"complaint": 1}},
		}, perDay)
	})

	t.Run("InvalidRequestsAndTopReasons", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		refuse := func(id, district, field string, comment bool) {
			t.Helper()
			require.NoError(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: id, Comment: comment, District: district, Field: field}, invalid(id)))
		}
		// Today (2031-03-20), by the ledger's clock.
		refuse("i-1", bil, "citizen.fin", false)
		refuse("i-2", bil, "citizen.fin", false)
		refuse("i-3", bil, "appeal.text", false)
		refuse("i-4", "", "district", false) // no district the hub serves
		refuse("i-5", bil, "text", true)     // a comment
		require.ErrorIs(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "i-1", District: bil, Field: "citizen.fin"}, invalid("i-1")),
			routers.ErrDuplicate)
		// The next day, after which 2031-03-20 is over.
		clockOf(t).advance(24 * time.Hour)
		for i, field := range []string{"appeal.type", "citizen.fin", "form.a", "form.b", "reception.date"} {
			refuse(fmt.Sprintf("i-%d", 6+i), bil, field, false)
		}
		refuse("i-11", nrm, "service", false)
		filed(t, l, "ok-1", bil, "F000001", "appeal", "complaint", baku(2031, 3, 21, 8, 0, 0))

		got := figures(t, l, period(t, "2031-03-20", "2031-03-22"), today, dueSoonBy)
		require.Equal(t, 8, got[bil].Invalid)
		require.Equal(t, 9, got[bil].Received, "registered and invalid")
		require.Equal(t, []routers.ReasonCount{
			{Field: "citizen.fin", Count: 3}, {Field: "appeal.text", Count: 1}, {Field: "appeal.type", Count: 1},
			{Field: "form.a", Count: 1}, {Field: "form.b", Count: 1},
		}, got[bil].TopInvalid, "the most frequent first, ties by field, five at most")
		require.Equal(t, []routers.ReasonCount{{Field: "service", Count: 1}}, got[nrm].TopInvalid)
		require.Equal(t, 10, got[""].Invalid, "the country counts the request for no district")
		require.Equal(t, 11, got[""].Received)
		require.Equal(t, []routers.ReasonCount{
			{Field: "citizen.fin", Count: 3}, {Field: "appeal.text", Count: 1}, {Field: "appeal.type", Count: 1},
			{Field: "district", Count: 1}, {Field: "form.a", Count: 1},
		}, got[""].TopInvalid)

		got = figures(t, l, period(t, "2031-03-20", "2031-03-21"), today, dueSoonBy)
		require.Equal(t, 3, got[bil].Invalid)
		require.Equal(t, []routers.ReasonCount{{Field: "citizen.fin", Count: 2}, {Field: "appeal.text", Count: 1}}, got[bil].TopInvalid)
		require.Equal(t, 4, got[""].Invalid)
		require.NotContains(t, got, nrm)
	})

	t.Run("AnswersOnTimeAndAnswerDays", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		registered := baku(2031, 1, 5, 10, 0, 0)
		appeal := func(id, district string) routers.Appeal {
			t.Helper()
			a := filed(t, l, id, district, "F000001", "appeal", "complaint", registered)
			return delivered(t, l, a.Number, registered.Add(time.Minute))
		}
		answer(t, l, appeal("a-1", bil).Number, routers.StatusAnswered, baku(2031, 1, 30, 10, 0, 0), 8, true)
		answer(t, l, appeal("a-2", bil).Number, routers.StatusAnswered, baku(2031, 2, 20, 10, 0, 0), 15, true)
		answer(t, l, appeal("a-3", bil).Number, routers.StatusRejected, baku(2031, 3, 20, 7, 0, 0), 10, false) // today
		forward(t, l, appeal("a-4", bil).Number, "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi", baku(2031, 3, 6, 9, 0, 0), false)
		answer(t, l, appeal("a-5", bil).Number, routers.StatusAnswered, baku(2031, 1, 14, 23, 0, 0), 3, true) // before the period
		answer(t, l, appeal("a-6", bil).Number, routers.StatusAnswered, baku(2031, 1, 16, 10, 0, 0), 4, true)
		// Forwarded on the hub, answered where it went.
		b1 := forward(t, l, appeal("b-1", bil).Number, nrm, baku(2031, 1, 6, 9, 0, 0), false)
		b1 = delivered(t, l, b1.Number, baku(2031, 1, 6, 10, 0, 0))
		answer(t, l, b1.Number, routers.StatusAnswered, baku(2031, 2, 25, 10, 0, 0), 4, true)
		// Not answered: no answer figure.
		appeal("c-1", bil)

		type answers struct {
			Answered, OnTime int
			P50, P90         float64
		}
		answersOf := func(f routers.Figures) answers {
			return answers{f.Answered, f.AnsweredOnTime, f.AnswerDaysP50, f.AnswerDaysP90}
		}
		p := period(t, "2031-01-15", "2031-03-21")
		got := figures(t, l, p, today, dueSoonBy)
		// BIL: 2 (a-4's forwarding, by forward), 4, 8, 10, 15 working days.
		require.Equal(t, answers{Answered: 5, OnTime: 4, P50: 8, P90: 13}, answersOf(got[bil]))
		require.Equal(t, answers{Answered: 1, OnTime: 1, P50: 4, P90: 4}, answersOf(got[nrm]))
		// 2, 4, 4, 8, 10, 15.
		require.Equal(t, answers{Answered: 6, OnTime: 5, P50: 6, P90: 12.5}, answersOf(got[""]))
		require.InDelta(t, 0.8, got[bil].OnTimeShare(), 1e-9)

		clockOf(t).advance(48 * time.Hour) // today over: rolled up, the same
		require.Equal(t, answers{Answered: 6, OnTime: 5, P50: 6, P90: 12.5}, answersOf(figures(t, l, p, today, dueSoonBy)[""]))
		require.Equal(t, answers{Answered: 1, OnTime: 0, P50: 10, P90: 10},
			answersOf(figures(t, l, period(t, "2031-03-20", "2031-03-21"), today, dueSoonBy)[bil]))
	})

	t.Run("OpenDueSoonOverdueAndWatched", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		at := baku(2031, 2, 20, 10, 0, 0)
		open := func(id, district, deadline string, status routers.Status) routers.Appeal {
			t.Helper()
			d := draft(id, district, at)
			d.Deadline = deadline
			a := registerDrained(t, l, d)
			if status != routers.StatusRegistered {
				a = delivered(t, l, a.Number, at.Add(time.Minute))
			}
			if status == routers.StatusInProgress || status == routers.StatusAnswered || status == routers.StatusClosed {
				a = change(t, l, a.Number, routers.StatusInProgress, func(a *routers.Appeal) { a.InProgressAt = at.Add(time.Hour) })
			}
			if status == routers.StatusAnswered || status == routers.StatusClosed {
				a = answer(t, l, a.Number, routers.StatusAnswered, at.Add(48*time.Hour), 2, true)
			}
			if status == routers.StatusClosed {
				a = change(t, l, a.Number, routers.StatusClosed, func(a *routers.Appeal) { a.ClosedAt = at.Add(72 * time.Hour) })
			}
			return a
		}
		o1 := open("o-1", bil, "2031-03-19", routers.StatusDelivered)
		o2 := open("o-2", bil, "2031-03-10", routers.StatusInProgress)
		o3 := open("o-3", bil, today, routers.StatusRegistered) // its delivery pending
		o4 := open("o-4", bil, dueSoonBy, routers.StatusDelivered)
		o5 := open("o-5", bil, "2031-03-26", routers.StatusDelivered)
		open("o-6", bil, "2031-03-01", routers.StatusAnswered)
		o7 := open("o-7", bil, "2031-03-12", routers.StatusDelivered)
		forward(t, l, o7.Number, nrm, at.Add(time.Hour), false) // awaiting NRM: open there, its delivery pending
		o8 := open("o-8", bil, "2031-03-01", routers.StatusDelivered)
		forward(t, l, o8.Number, "Nazirlik", at.Add(time.Hour), false)
		open("o-9", bil, "2031-03-01", routers.StatusClosed)
		o10 := open("o-10", bil, "2031-03-22", routers.StatusRegistered)
		o11 := open("o-11", bil, "2031-03-10", routers.StatusDelivered)
		o12 := open("o-12", bil, "2031-03-10", routers.StatusDelivered)

		// o-10's delivery given up on, its dead letter filed with it;
		// o-5's comment's too; a poison letter; a letter dropped.
		change(t, l, o10.Number, "", func(a *routers.Appeal) { a.Delivery = routers.Delivery{State: routers.DeliveryFailed, Attempts: 3} })
		letter := func(fingerprint string, kind routers.DeadLetterKind, number string) {
			dl := deadLetter(fingerprint)
			dl.Kind, dl.AppealNumber = kind, number
			require.NoError(t, l.AddDeadLetter(t.Context(), dl))
		}
		letter("fp-o10", routers.DeadAppeal, o10.Number)
		letter("fp-o5", routers.DeadComment, o5.Number)
		letter("fp-poison", routers.DeadPoison, "")
		letter("fp-o7", routers.DeadAppeal, o7.Number)
		dropped, err := l.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 10)
		require.NoError(t, err)
		require.Len(t, dropped, 4)
		ok, err := l.ResolveDeadLetter(t.Context(), dropped[3].ID, routers.DeadLetterDropped, routers.Effects{}, time.Time{}, operatorAct)
		require.NoError(t, err)
		require.True(t, ok)

		type backlog struct{ Open, DueSoon, Overdue, Pending, DeadLetters int }
		backlogOf := func(f routers.Figures) backlog {
			return backlog{f.Open, f.DueSoon, f.Overdue, f.PendingDeliveries, f.DeadLetters}
		}
		got := figures(t, l, period(t, "2031-03-01", "2031-03-21"), today, dueSoonBy)
		require.Equal(t, backlog{Open: 8, DueSoon: 3, Overdue: 4, Pending: 1, DeadLetters: 2}, backlogOf(got[bil]))
		require.Equal(t, backlog{Open: 1, Overdue: 1, Pending: 1}, backlogOf(got[nrm]))
		require.Equal(t, backlog{Open: 9, DueSoon: 3, Overdue: 5, Pending: 2, DeadLetters: 3}, backlogOf(got[""]))

		watchedNumbers := func(district string, overdue bool, limit int) []string {
			t.Helper()
			list, err := l.Watched(t.Context(), district, overdue, today, dueSoonBy, limit)
			require.NoError(t, err)
			out := make([]string, len(list))
			for i, w := range list {
				out[i] = w.Number
			}
			return out
		}
		require.Equal(t, []string{o2.Number, o11.Number, o12.Number, o1.Number}, watchedNumbers(bil, true, 10),
			"oldest deadline first, then by number")
		require.Equal(t, []string{o2.Number, o11.Number}, watchedNumbers(bil, true, 2))
		require.Equal(t, []string{o3.Number, o10.Number, o4.Number}, watchedNumbers(bil, false, 10))
		require.Equal(t, []string{o7.Number}, watchedNumbers(nrm, true, 10))
		require.Empty(t, watchedNumbers(nrm, false, 10))
		require.Empty(t, watchedNumbers("AZ-XXX", true, 10))

		list, err := l.Watched(t.Context(), bil, true, today, dueSoonBy, 1)
		require.NoError(t, err)
		require.Len(t, list, 1)
		w := list[0]
		require.Equal(t, routers.WatchedAppeal{Number: o2.Number, District: bil, Service: o2.Service, Type: o2.Type,
			Status: routers.StatusInProgress, RegisteredAt: w.RegisteredAt, Deadline: "2031-03-10"}, w)
		requireTime(t, o2.RegisteredAt, w.RegisteredAt, "RegisteredAt")
		moved, err := l.Watched(t.Context(), nrm, true, today, dueSoonBy, 1)
		require.NoError(t, err)
		require.Equal(t, nrm, moved[0].District)
		require.Equal(t, routers.StatusForwarded, moved[0].Status, "awaiting its new district")
	})

	t.Run("ForwardedAndExtended", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		at := baku(2031, 2, 25, 10, 0, 0)
		appeal := func(id, district string) routers.Appeal {
			t.Helper()
			a := filed(t, l, id, district, "F000001", "appeal", "complaint", at)
			return delivered(t, l, a.Number, at.Add(time.Minute))
		}
		forward(t, l, appeal("f-1", bil).Number, nrm, baku(2031, 3, 3, 9, 0, 0), false)
		forward(t, l, appeal("f-2", bil).Number, "Nazirlik", baku(2031, 3, 10, 9, 0, 0), true)
		forward(t, l, appeal("f-3", nrm).Number, "Nazirlik", baku(2031, 2, 27, 9, 0, 0), false) // before the period
		// Forwarded on and on: the latest forwarding is the one kept.
		f4 := forward(t, l, appeal("f-4", bil).Number, nrm, baku(2031, 3, 4, 9, 0, 0), false)
		f4 = delivered(t, l, f4.Number, baku(2031, 3, 4, 10, 0, 0))
		forward(t, l, f4.Number, sat, baku(2031, 3, 12, 9, 0, 0), true)
		extend := func(number string, on time.Time) {
			t.Helper()
			change(t, l, number, routers.StatusInProgress, func(a *routers.Appeal) {
				a.Deadline, a.Extended, a.ExtendedAt, a.ExtensionReason = "2031-04-30", true, on, "yerində yoxlama"
			})
		}
		extend(appeal("e-1", bil).Number, baku(2031, 3, 5, 11, 0, 0))
		extend(appeal("e-2", nrm).Number, baku(2031, 2, 20, 11, 0, 0)) // before the period
		extend(appeal("e-3", bil).Number, baku(2031, 3, 20, 8, 0, 0))  // today

		type statutory struct{ Forwarded, Late, Extended int }
		statutoryOf := func(f routers.Figures) statutory { return statutory{f.Forwarded, f.ForwardedLate, f.Extended} }
		p := period(t, "2031-03-01", "2031-03-21")
		got := figures(t, l, p, today, dueSoonBy)
		require.Equal(t, statutory{Forwarded: 2, Late: 1, Extended: 2}, statutoryOf(got[bil]))
		require.Equal(t, statutory{Forwarded: 1, Late: 1}, statutoryOf(got[nrm]))
		require.Equal(t, statutory{Forwarded: 3, Late: 2, Extended: 2}, statutoryOf(got[""]))

		// A district reports a forwarding days after it made it, on a day
		// that is over: it is counted on its day all the same.
		forward(t, l, appeal("f-5", bil).Number, "Nazirlik", baku(2031, 3, 2, 9, 0, 0), false)
		require.Equal(t, statutory{Forwarded: 3, Late: 1, Extended: 2}, statutoryOf(figures(t, l, p, today, dueSoonBy)[bil]))
	})

	t.Run("Lifecycles", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		at := baku(2031, 3, 5, 10, 0, 0)
		l1 := filed(t, l, "l-1", bil, "F000001", "appeal", "complaint", at)
		l2 := filed(t, l, "l-2", nrm, "F000002", "housing", "application", at)
		l3 := filed(t, l, "l-3", bil, "F000003", "reception", "proposal", at) // the same instant: by number
		l4 := filed(t, l, "l-4", bil, "F000004", "appeal", "complaint", at.Add(24*time.Hour))
		filed(t, l, "l-5", bil, "F000005", "appeal", "complaint", baku(2031, 2, 28, 23, 59, 59))
		filed(t, l, "l-6", bil, "F000006", "appeal", "complaint", baku(2031, 3, 21, 0, 0, 0)) // the period's end

		times := []time.Time{at.Add(time.Minute), at.Add(26 * time.Hour), at.Add(72 * time.Hour), at.Add(96 * time.Hour)}
		delivered(t, l, l1.Number, times[0])
		change(t, l, l1.Number, routers.StatusInProgress, func(a *routers.Appeal) { a.InProgressAt = times[1] })
		answer(t, l, l1.Number, routers.StatusAnswered, times[2], 2, true)
		l1 = change(t, l, l1.Number, routers.StatusClosed, func(a *routers.Appeal) { a.ClosedAt = times[3] })
		l4 = forward(t, l, l4.Number, nrm, at.Add(25*time.Hour), false)

		read := func(district string) []routers.Lifecycle {
			t.Helper()
			var out []routers.Lifecycle
			require.NoError(t, l.Lifecycles(t.Context(), district, period(t, "2031-03-01", "2031-03-21"), func(c routers.Lifecycle) error {
				out = append(out, c)
				return nil
			}))
			return out
		}
		numbersOf := func(list []routers.Lifecycle) []string {
			out := make([]string, len(list))
			for i, c := range list {
				out[i] = c.Number
			}
			return out
		}
		require.Equal(t, []string{l1.Number, l3.Number, l2.Number, l4.Number}, numbersOf(read("")))
		bils := read(bil)
		require.Equal(t, []string{l1.Number, l3.Number, l4.Number}, numbersOf(bils), "filed with BIL, forwarded or not")
		c := bils[0]
		require.Equal(t, []string{l1.Number, bil, "appeal", "complaint", string(routers.StatusClosed), l1.Deadline},
			[]string{c.Number, c.District, c.Service, c.Type, string(c.Status), c.Deadline})
		for i, pair := range [][2]time.Time{{at, c.RegisteredAt}, {times[0], c.DeliveredAt}, {times[1], c.InProgressAt},
			{times[2], c.AnsweredAt}, {times[3], c.ClosedAt}} {
			requireTime(t, pair[0], pair[1], fmt.Sprintf("step %d", i))
		}
		requireTime(t, time.Time{}, bils[1].DeliveredAt, "l-3 not delivered")
		require.Equal(t, nrm, bils[2].District, "the authority holding it now")
		require.Equal(t, routers.StatusForwarded, bils[2].Status)

		stop := errors.New("enough")
		calls := 0
		require.ErrorIs(t, l.Lifecycles(t.Context(), "", period(t, "2031-03-01", "2031-03-21"), func(routers.Lifecycle) error {
			calls++
			return stop
		}), stop)
		require.Equal(t, 1, calls)
	})

	t.Run("LifecyclesOfManyAtOneInstant", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		at := baku(2031, 3, 5, 10, 0, 0)
		const n = 1050 // more than a page of any reasonable size, all tied on time
		want := make([]string, n)
		for i := range n {
			want[i] = register(t, l, draft(fmt.Sprintf("m-%d", i), sat, at)).Number
		}
		var got []string
		require.NoError(t, l.Lifecycles(t.Context(), sat, period(t, "2031-03-05", "2031-03-06"), func(c routers.Lifecycle) error {
			got = append(got, c.Number)
			return nil
		}))
		require.Equal(t, want, got, "each once, by number")
	})

	t.Run("MilestonesAreKept", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		d := draft("ms-1", bil, registeredAt)
		d.DeliveredAt = registeredAt.Add(time.Second) // as Register may be given them
		want := registerDrained(t, l, d)
		got, err := l.Appeal(t.Context(), want.Number)
		require.NoError(t, err)
		requireAppeal(t, want, got)
		steps := []func(*routers.Appeal){
			func(a *routers.Appeal) { a.InProgressAt = registeredAt.Add(time.Hour) },
			func(a *routers.Appeal) {
				a.AnsweredAt, a.AnswerDays, a.OnTime = registeredAt.Add(50*time.Hour), 0, true
			},
			func(a *routers.Appeal) { a.AnswerDays, a.OnTime = 12, false },
			func(a *routers.Appeal) { a.ClosedAt = registeredAt.Add(100 * time.Hour) },
		}
		for _, step := range steps {
			require.NoError(t, l.UpdateAppeal(t.Context(), want.Number, func(a *routers.Appeal) (routers.Effects, error) {
				step(a)
				return routers.Effects{}, nil
			}))
			step(&want)
			got, err := l.Appeal(t.Context(), want.Number)
			require.NoError(t, err)
			requireAppeal(t, want, got)
		}
		requireRefused(t, l.RecordInvalid(t.Context(), routers.Refusal{RequestID: "ms-bad", Field: "form.\x00"}, invalid("ms-bad")))
	})
}
