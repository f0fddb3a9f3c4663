package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestSeedIsALedgerTheHubWrote seeds a small ledger and reads it back
// through the PostgreSQL ledger: numbers gap-free per district and year
// with the counters at the last, valid FİNs, requests in the contract's
// shape that agree with their columns, histories that run 1…sequence in
// time order and end in the appeal's status, comments with their events,
// every id claimed in the inbox, the milestones, extensions and
// forwardings the hub would have written with those histories, and the
// schema's indexes as the migrations made them. The monitors' figures of
// the whole seed are then what counting the plans gives.
func TestSeedIsALedgerTheHubWrote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := postgrestest.NewPool(t)
	indexesBefore := indexDefs(t, pool)
	codes, err := districtCodes(4)
	require.NoError(t, err)
	now := time.Date(2026, 11, 30, 15, 0, 0, 0, routers.Baku)
	s, err := newLedgerSeed(3000, 300, codes, now, 7)
	require.NoError(t, err)
	fig, err := s.write(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, int64(3000), fig.Appeals)
	require.Greater(t, fig.Events, int64(3*2900), "about three events an appeal")
	require.Positive(t, fig.Comments)
	require.Positive(t, fig.Bookings)
	require.Equal(t, indexesBefore, indexDefs(t, pool), "the indexes came back as they were")

	rows, err := pool.Query(ctx, `
		SELECT c.district, c.year, c.last_seq, count(a.number), max(right(a.number, 6)::int)
		FROM appeal_counters c JOIN appeals a ON a.filed_district = c.district AND split_part(a.number, '-', 3)::int = c.year
		GROUP BY c.district, c.year, c.last_seq`)
	require.NoError(t, err)
	defer rows.Close() // a failure inside the loop must not hold the pool's close
	years := 0
	for rows.Next() {
		var (
			district           string
			year, last, n, top int
		)
		require.NoError(t, rows.Scan(&district, &year, &last, &n, &top))
		require.True(t, last == n && n == top, "numbers of %s in %d: counter %d, %d appeals, the greatest %d", district, year, last, n, top)
		years++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 2*len(codes), years, "a counter for each district and year")
	var unclaimed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT request_id FROM appeals UNION ALL SELECT id FROM comments) ids
		WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.request_id = ids.request_id)`).Scan(&unclaimed))
	require.Zero(t, unclaimed, "ids the inbox does not hold")

	ledger := postgres.NewLedger(pool, func() time.Time { return now })
	// Every history is chained as the hub chains what it writes: `korpu
	// audit verify` passes the seed.
	chains := routers.ChainVerifier{Calendar: calendar.Default()}
	require.NoError(t, ledger.WalkHistory(ctx, func(e routers.StoredEvent) error {
		require.Empty(t, chains.Add(e))
		return nil
	}))
	require.Empty(t, chains.Close())
	require.EqualValues(t, fig.Appeals, chains.Appeals)
	require.EqualValues(t, fig.Events, chains.Events)

	numberPattern := regexp.MustCompile(`^AZ-[A-Z]{3}-20(25|26)-[0-9]{6}$`)
	for i := 0; i < len(s.at); i += 37 {
		number := routers.FormatAppealNumber(s.codes[s.district[i]], int(s.year[i]), int(s.seq[i]))
		require.Regexp(t, numberPattern, number)
		rec, err := ledger.AppealRecord(ctx, number)
		require.NoError(t, err, number)
		a := rec.Appeal
		require.True(t, routers.ValidFIN(a.FIN), a.FIN)
		require.False(t, a.RegisteredAt.After(now), number)

		var req routers.Request
		dec := json.NewDecoder(bytes.NewReader(a.Request))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&req), number)
		filed := s.codes[s.district[i]]
		require.Equal(t, []string{req.ID, req.District, req.Service, req.Citizen.FIN, req.Appeal.Type},
			[]string{a.RequestID, filed, a.Service, a.FIN, a.Type}, number)
		require.Equal(t, routers.FormatTime(a.SubmittedAt), req.SubmittedAt, number)
		require.True(t, a.SubmittedAt.Before(a.RegisteredAt), number)
		require.Equal(t, a.Service == "reception-booking", req.Reception != nil, number)
		require.NotEmpty(t, a.Person, number)

		require.Len(t, rec.Events, a.Sequence, number)
		var statuses []routers.Status
		commented := 0
		for j, ev := range rec.Events {
			require.Equal(t, j+1, ev.Sequence, number)
			require.Equal(t, number, ev.AppealNumber)
			if a.Extended && ev.At >= routers.FormatTime(a.ExtendedAt) {
				require.Equal(t, a.Deadline, ev.Deadline, "%s: from the extension on, the new deadline", number)
			} else {
				require.Equal(t, deadlineAfter(t, a.RegisteredAt, routers.AnswerWorkingDays), ev.Deadline, number)
			}
			if j > 0 {
				require.GreaterOrEqual(t, ev.At, rec.Events[j-1].At, "%s: events out of time order", number)
			}
			if ev.Status == routers.StatusCommented {
				commented++
				continue
			}
			statuses = append(statuses, ev.Status)
		}
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses[:2], number)
		require.Equal(t, a.Status, statuses[len(statuses)-1], number)
		requireLikeTheHub(t, s.codes, filed, a, rec.Events)
		require.Len(t, rec.Comments, commented, number)
		require.True(t, slices.IsSortedFunc(rec.Comments, func(x, y routers.Comment) int { return x.SubmittedAt.Compare(y.SubmittedAt) }))

		history, err := ledger.AppealsOf(ctx, a.FIN, routers.HistoryFilter{}, routers.HistoryPosition{}, routers.MaxHistoryPage)
		require.NoError(t, err)
		found := slices.IndexFunc(history, func(h routers.AppealSummary) bool { return h.Number == number })
		require.GreaterOrEqual(t, found, 0, number)
		require.Equal(t, rec.Events[len(rec.Events)-1].At, routers.FormatTime(history[found].ChangedAt), number)
	}

	// The monitors' figures of the whole seed (its days rolled up, today
	// live) are what counting the plans gives, and every road is taken.
	p := routers.Period{From: seedSince, To: calendar.Day(now).AddDate(0, 0, 1)}
	got, err := ledger.Figures(ctx, p, s.today, s.dueSoonBy)
	require.NoError(t, err)
	country := got[""]
	want := figuresOfPlans(s, "")
	require.NotEmpty(t, country.TopInvalid)
	require.Equal(t, "citizen.fin", country.TopInvalid[0].Field, "the most refused field")
	country.TopInvalid, want.TopInvalid = nil, nil
	want.Invalid, want.Received = s.invalid, want.Received+s.invalid
	require.Equal(t, want, country)
	for _, figure := range []int{want.Repeat, want.Answered - want.AnsweredOnTime, want.Forwarded, want.ForwardedLate, want.Extended,
		want.Open, want.DueSoon, want.Overdue, want.Invalid} {
		require.Positive(t, figure, "%+v", want)
	}
	one, err := ledger.DistrictFigures(ctx, codes[1], p, s.today, s.dueSoonBy)
	require.NoError(t, err)
	wantOne := figuresOfPlans(s, codes[1])
	require.Equal(t, []int{wantOne.Registered, wantOne.Repeat, wantOne.Answered, wantOne.Forwarded, wantOne.Extended, wantOne.Open, wantOne.Overdue},
		[]int{one.Registered, one.Repeat, one.Answered, one.Forwarded, one.Extended, one.Open, one.Overdue})
	var watched []int
	require.NoError(t, pool.QueryRow(ctx, `SELECT ARRAY[count(*) FILTER (WHERE oversight_level = 2), count(*) FILTER (WHERE oversight_level = 1)]
		FROM appeals WHERE oversight_deadline = deadline`).Scan(&watched))
	require.Equal(t, []int{want.Overdue, want.DueSoon}, watched, "the hub's sweep claimed every crossing as it went")

	// The views --monitor times answer on it, the dashboard's pages too.
	clock := func() time.Time { return now }
	dashboard, err := seedDashboard(pool, codes, clock)
	require.NoError(t, err)
	srv := httptest.NewServer(dashboard)
	t.Cleanup(srv.Close)
	for _, v := range append(monitorViews(seedMonitor(pool, codes, clock), codes), pageViews(srv.URL, codes)...) {
		view, err := timeView(ctx, v, 3)
		require.NoError(t, err, v.name)
		require.Zero(t, view.Errors, "%s: %s", v.name, view.FirstErr)
		require.Equal(t, 3, view.Latency.Count)
	}
}

// figuresOfPlans counts the figures of the seed's appeals (but its invalid
// requests) for district, or the country (""), over the whole seed: each
// counted where the FiguresLedger says.
func figuresOfPlans(s *ledgerSeed, district string) routers.Figures {
	tally := routers.NewTally(district)
	type key struct {
		citizen           int32
		district, service string
	}
	earlier := map[key][]time.Time{} // registrations, in order
	of := func(code string) bool { return district == "" || code == district }
	for i := range s.at {
		p := s.plan(i)
		k := key{p.citizen, p.district, p.service}
		repeat := false
		for _, at := range earlier[k] {
			repeat = repeat || !at.Before(p.registered.AddDate(-1, 0, 0))
		}
		earlier[k] = append(earlier[k], p.registered)
		if of(p.district) {
			tally.Registered++
			tally.ByType[p.kind]++
			tally.ByService[p.service]++
			if repeat {
				tally.Repeat++
			}
		}
		m, st := p.milestones, p.statutory
		if !m.AnsweredAt.IsZero() && of(p.holder) {
			tally.Answered++
			tally.Answers[m.AnswerDays]++
			if m.OnTime {
				tally.AnsweredOnTime++
			}
		}
		if !st.ForwardedAt.IsZero() && of(st.ForwardedBy) {
			tally.Forwarded++
			if st.ForwardedLate {
				tally.ForwardedLate++
			}
		}
		if st.Extended && of(p.holder) {
			tally.Extended++
		}
		if of(p.holder) {
			open := p.status == routers.StatusRegistered || p.status == routers.StatusDelivered || p.status == routers.StatusInProgress ||
				p.status == routers.StatusForwarded && p.holder != p.district
			if open {
				tally.Open++
				switch {
				case p.deadline.text < s.today:
					tally.Overdue++
				case p.deadline.text <= s.dueSoonBy:
					tally.DueSoon++
				}
			}
			if p.delivery == routers.DeliveryPending {
				tally.PendingDeliveries++
			}
		}
	}
	return tally.Done()
}

func indexDefs(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return defs
}

// deadlineAfter is the n-th working day after at's day, as the hub counts.
func deadlineAfter(t *testing.T, at time.Time, n int) string {
	t.Helper()
	due, err := calendar.Default().AddWorkingDays(at, n)
	require.NoError(t, err)
	return due.Format(time.DateOnly)
}

// requireLikeTheHub checks that what the hub records beside a step (the
// milestones, an extension, a forwarding, the delivery) agrees with the
// events of a, filed with filed.
func requireLikeTheHub(t *testing.T, codes []string, filed string, a routers.Appeal, events []routers.StatusEvent) {
	t.Helper()
	first := map[routers.Status]time.Time{}
	var forwardedEvent *routers.StatusEvent
	for _, ev := range events {
		at, err := time.Parse(time.RFC3339, ev.At)
		require.NoError(t, err)
		if _, seen := first[ev.Status]; !seen {
			first[ev.Status] = at
		}
		if ev.Status == routers.StatusForwarded {
			forwardedEvent = &ev
		}
	}
	m, st := a.Milestones, a.Statutory
	requireSame := func(want, got time.Time, what string) {
		t.Helper()
		require.True(t, want.Equal(got), "%s: %s %v, its event %v", a.Number, what, got, want)
	}
	requireSame(first[routers.StatusDelivered], m.DeliveredAt, "delivered")
	requireSame(first[routers.StatusInProgress], m.InProgressAt, "in progress")
	requireSame(first[routers.StatusClosed], m.ClosedAt, "closed")
	answer := first[routers.StatusAnswered]
	if answer.IsZero() {
		answer = first[routers.StatusRejected]
	}
	onHub := slices.Contains(codes, st.ForwardedTo)
	if forwardedEvent != nil && !onHub {
		answer = first[routers.StatusForwarded]
	}
	requireSame(answer, m.AnsweredAt, "answered")
	if !answer.IsZero() {
		days := 0
		for d := calendar.Day(a.RegisteredAt).AddDate(0, 0, 1); !d.After(calendar.Day(answer)); d = d.AddDate(0, 0, 1) {
			if working, err := calendar.Default().IsWorkingDay(d); err == nil && working {
				days++
			}
		}
		require.Equal(t, days, m.AnswerDays, a.Number)
		require.Equal(t, calendar.Day(answer).Format(time.DateOnly) <= a.Deadline, m.OnTime, a.Number)
	}
	require.Equal(t, a.Extended, a.Deadline == deadlineAfter(t, a.RegisteredAt, routers.ExtendedAnswerWorkingDays), a.Number)
	if forwardedEvent == nil {
		require.Equal(t, filed, a.District, a.Number)
		require.Empty(t, st.ForwardedTo, a.Number)
	} else {
		require.Equal(t, filed, st.ForwardedBy, a.Number)
		require.Equal(t, filed, forwardedEvent.District, "%s: forwarded in the name of the district that forwards", a.Number)
		requireSame(first[routers.StatusForwarded], st.ForwardedAt, "forwarded")
		require.Equal(t, calendar.Day(st.ForwardedAt).Format(time.DateOnly) > deadlineAfter(t, a.RegisteredAt, 3), st.ForwardedLate, a.Number)
	}
	if onHub {
		require.Equal(t, st.ForwardedTo, a.District, a.Number)
		require.Equal(t, []string{filed}, st.Forwarders, a.Number)
		require.Equal(t, a.District, events[len(events)-1].District, "%s: the new district's steps", a.Number)
	}
	require.Equal(t, m.DeliveredAt.IsZero() || a.InTransfer(), a.Delivery.State == routers.DeliveryPending, a.Number)
}
