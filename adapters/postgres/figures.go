package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// The monitors' figures (routers.FiguresLedger, migration 00010). What
// arrived or was answered on a Baku day that is over is rolled up once
// into figures_rollup, per day and per whole month, so a view of a year
// adds up a few thousand rows whatever the size of the ledger; the days
// not rolled up yet are read live through appeals_registered,
// appeals_answered and inbox_invalid. Extensions and forwardings (dated by
// the districts), the open appeals and the dead letters are read live from
// their partial indexes. TestFiguresUseIndexes holds every plan to them.

// rollupGrace is how long after a day's end it is rolled up: the hubs'
// clocks stamp what they commit a little apart, and a commit may be in
// flight when the day ends.
const rollupGrace = time.Hour

// rollWeek is the most days one transaction rolls up: on 1,000,000 appeals
// over two years (korpu bench --monitor) a day takes about 70 ms, the
// repeats' look-ups most of it.
const rollWeek = 7

// Metrics of figures_rollup.
const (
	metricRegistered = "registered"
	metricType       = "type"
	metricService    = "service"
	metricRepeat     = "repeat"
	metricInvalid    = "invalid"
	metricAnswerDays = "answer_days"
	metricOnTime     = "on_time"
)

// scoped is a statement over the country (all) or one district (one, its
// last parameter the district's code): {{…}} in the text holds the
// district's condition, dropped for the country. Two statements rather
// than one with "OR $n = ”" let the planner use the district's index.
type scoped struct{ all, one string }

var districtCondition = regexp.MustCompile(`\{\{([^}]*)\}\}`)

func scope(query string) scoped {
	return scoped{all: districtCondition.ReplaceAllString(query, ""), one: districtCondition.ReplaceAllString(query, "$1")}
}

// pick is the statement for district and its arguments, the district's
// code appended for one.
func (s scoped) pick(district string, args ...any) (string, []any) {
	if district == "" {
		return s.all, args
	}
	return s.one, append(args, district)
}

// spanCounts counts what arrived and was answered in [$1, $2), by Baku
// day, district, metric and key: the rows of figures_rollup. An appeal is
// a repeat when the same citizen filed with the same district for the same
// service within the year before it: looked up per appeal (LATERAL …
// LIMIT 1, which the planner cannot turn into a hash of every appeal) on
// appeals_citizen, then the row.
var spanCounts = scope(`
	WITH reg AS (
		SELECT (registered_at AT TIME ZONE 'Asia/Baku')::date AS day, filed_district AS district, service, appeal_type, fin, registered_at
		FROM appeals WHERE registered_at >= $1 AND registered_at < $2 {{AND filed_district = $3}}
	)
	SELECT day, district, 'registered' AS metric, '' AS key, count(*) AS n FROM reg GROUP BY 1, 2
	UNION ALL
	SELECT day, district, 'type', appeal_type, count(*) FROM reg GROUP BY 1, 2, 4
	UNION ALL
	SELECT day, district, 'service', service, count(*) FROM reg GROUP BY 1, 2, 4
	UNION ALL
	SELECT day, district, 'repeat', '', count(*) FROM reg r CROSS JOIN LATERAL (
		SELECT 1 FROM appeals b WHERE b.fin = r.fin AND b.registered_at < r.registered_at
			AND b.registered_at >= r.registered_at - interval '1 year' AND b.filed_district = r.district AND b.service = r.service
		LIMIT 1) earlier
	GROUP BY 1, 2
	UNION ALL
	SELECT (received_at AT TIME ZONE 'Asia/Baku')::date, district, 'invalid', refused_field, count(*) FROM inbox
	WHERE outcome = 'invalid' AND received_at >= $1 AND received_at < $2 {{AND district = $3}} GROUP BY 1, 2, 4
	UNION ALL
	SELECT (answered_at AT TIME ZONE 'Asia/Baku')::date, district, 'answer_days', coalesce(answer_days::text, ''), count(*) FROM appeals
	WHERE answered_at >= $1 AND answered_at < $2 {{AND district = $3}} GROUP BY 1, 2, 4
	UNION ALL
	SELECT (answered_at AT TIME ZONE 'Asia/Baku')::date, district, 'on_time', '', count(*) FROM appeals
	WHERE answered_at >= $1 AND answered_at < $2 AND answered_on_time {{AND district = $3}} GROUP BY 1, 2`)

// The statements of the roll-up: claim the spans ($1, at $2), then write
// the rows of those claimed; a span another hub claimed first is skipped,
// after waiting for its commit.
const (
	claimSpans = `INSERT INTO figures_spans (span, first_day, rolled_at) SELECT $1, d, $2 FROM unnest($3::date[]) d
		ON CONFLICT DO NOTHING RETURNING to_char(first_day, 'YYYY-MM-DD')`
	rolledSpans = `SELECT span, to_char(first_day, 'YYYY-MM-DD') FROM figures_spans
		WHERE (span = 'day' AND first_day = ANY($1::date[])) OR (span = 'month' AND first_day = ANY($2::date[]))`
	rollMonth = `INSERT INTO figures_rollup (span, first_day, district, metric, key, n)
		SELECT 'month', $1::date, district, metric, key, sum(n) FROM figures_rollup
		WHERE span = 'day' AND first_day >= $1::date AND first_day < $2::date GROUP BY district, metric, key`
)

var rollDays = `INSERT INTO figures_rollup (span, first_day, district, metric, key, n)
	SELECT 'day', day, district, metric, key, n FROM (` + spanCounts.all + `) c WHERE day = ANY($3::date[])`

// rolledCounts adds up the rolled-up spans: whole months ($1) and days ($2).
var rolledCounts = scope(`SELECT district, metric, key, sum(n) FROM figures_rollup
	WHERE ((span = 'month' AND first_day = ANY($1::date[])) OR (span = 'day' AND first_day = ANY($2::date[]))) {{AND district = $3}}
	GROUP BY 1, 2, 3`)

// The live figures over the whole period [$1, $2), or as of now (today $1,
// the last due-soon deadline $2), each from its partial index.
var (
	extendedCounts = scope(`SELECT district, count(*) FROM appeals
		WHERE extended AND extended_at >= $1 AND extended_at < $2 {{AND district = $3}} GROUP BY district`)
	forwardedCounts = scope(`SELECT forwarded_by, count(*), count(*) FILTER (WHERE forwarded_late) FROM appeals
		WHERE forwarded_at IS NOT NULL AND forwarded_at >= $1 AND forwarded_at < $2 {{AND forwarded_by = $3}} GROUP BY forwarded_by`)
	openCounts = scope(`SELECT district,
			count(*) FILTER (WHERE ` + openAppeal + `),
			count(*) FILTER (WHERE (` + openAppeal + `) AND deadline < $1::date),
			count(*) FILTER (WHERE (` + openAppeal + `) AND deadline >= $1::date AND deadline <= $2::date),
			count(*) FILTER (WHERE delivery_state = 'pending')
		FROM appeals
		WHERE (status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered') {{AND district = $3}}
		GROUP BY district`)
	// A poison letter has no appeal: it counts for the country only.
	deadLetterCounts = scope(`SELECT coalesce(a.district, ''), count(*) FROM dead_letters d
		LEFT JOIN appeals a ON a.number = d.appeal_number AND d.appeal_number <> ''
		WHERE d.state = 'dead' {{AND a.district = $1}} GROUP BY 1`)
)

// Figures implements routers.FiguresLedger.
func (l *Ledger) Figures(ctx context.Context, p routers.Period, today, dueSoonBy string) (map[string]routers.Figures, error) {
	tallies, err := l.tally(ctx, "", p, today, dueSoonBy)
	if err != nil {
		return nil, err
	}
	out := make(map[string]routers.Figures, len(tallies))
	for code, t := range tallies {
		out[code] = t.Done()
	}
	if _, ok := out[""]; !ok {
		out[""] = routers.NewTally("").Done()
	}
	return out, nil
}

// DistrictFigures implements routers.FiguresLedger.
func (l *Ledger) DistrictFigures(ctx context.Context, district string, p routers.Period, today, dueSoonBy string) (routers.Figures, error) {
	if district == "" || !holdable(district) {
		return routers.NewTally(district).Done(), nil
	}
	tallies, err := l.tally(ctx, district, p, today, dueSoonBy)
	if err != nil {
		return routers.Figures{}, err
	}
	if t, ok := tallies[district]; ok {
		return t.Done(), nil
	}
	return routers.NewTally(district).Done(), nil
}

// tally reads every figure of p in one round trip, after rolling up the
// days it needs that are over; district "" is the country, under "" beside
// each district's own.
func (l *Ledger) tally(ctx context.Context, district string, p routers.Period, today, dueSoonBy string) (map[string]*routers.Tally, error) {
	pl := l.plan(p, true)
	if err := l.rollUp(ctx, pl); err != nil {
		return nil, err
	}
	tallies := map[string]*routers.Tally{}
	of := func(code string) *routers.Tally {
		t, ok := tallies[code]
		if !ok {
			t = routers.NewTally(code)
			tallies[code] = t
		}
		return t
	}
	// each calls fn with the tally of code and, for a district when the
	// country is asked, the country's too.
	each := func(code string, fn func(*routers.Tally)) {
		fn(of(code))
		if district == "" && code != "" {
			fn(of(""))
		}
	}
	add := func(code, metric, key string, n int) {
		each(code, func(t *routers.Tally) { addCount(t, metric, key, n) })
	}

	var b pgx.Batch
	if len(pl.months)+len(pl.days) > 0 {
		q, args := rolledCounts.pick(district, pl.months, pl.days)
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			return eachRow(rows, func() error {
				var (
					code, metric, key string
					n                 int
				)
				if err := rows.Scan(&code, &metric, &key, &n); err != nil {
					return err
				}
				add(code, metric, key, n)
				return nil
			})
		})
	}
	if pl.tailFrom.Before(pl.tailTo) {
		q, args := spanCounts.pick(district, pl.tailFrom, pl.tailTo)
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			return eachRow(rows, func() error {
				var (
					day               time.Time
					code, metric, key string
					n                 int
				)
				if err := rows.Scan(&day, &code, &metric, &key, &n); err != nil {
					return err
				}
				add(code, metric, key, n)
				return nil
			})
		})
	}
	q, args := extendedCounts.pick(district, p.From, p.To)
	queueCounts(&b, 1, q, args, func(code string, n []int) { each(code, func(t *routers.Tally) { t.Extended += n[0] }) })
	q, args = forwardedCounts.pick(district, p.From, p.To)
	queueCounts(&b, 2, q, args, func(code string, n []int) {
		each(code, func(t *routers.Tally) { t.Forwarded, t.ForwardedLate = t.Forwarded+n[0], t.ForwardedLate+n[1] })
	})
	q, args = openCounts.pick(district, today, dueSoonBy)
	queueCounts(&b, 4, q, args, func(code string, n []int) {
		each(code, func(t *routers.Tally) {
			t.Open, t.Overdue, t.DueSoon, t.PendingDeliveries = t.Open+n[0], t.Overdue+n[1], t.DueSoon+n[2], t.PendingDeliveries+n[3]
		})
	})
	q, args = deadLetterCounts.pick(district)
	queueCounts(&b, 1, q, args, func(code string, n []int) {
		if code == "" {
			of("").DeadLetters += n[0] // no district's
			return
		}
		each(code, func(t *routers.Tally) { t.DeadLetters += n[0] })
	})
	if err := l.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("figures: %w", err)
	}
	return tallies, nil
}

// addCount adds one row of figures_rollup (or of spanCounts) to t.
func addCount(t *routers.Tally, metric, key string, n int) {
	switch metric {
	case metricRegistered:
		t.Registered += n
	case metricType:
		t.ByType[key] += n
	case metricService:
		t.ByService[key] += n
	case metricRepeat:
		t.Repeat += n
	case metricInvalid:
		t.Invalid += n
		t.Refused[key] += n
	case metricAnswerDays:
		t.Answered += n
		if days, err := strconv.Atoi(key); err == nil {
			t.Answers[days] += n
		}
	case metricOnTime:
		t.AnsweredOnTime += n
	}
}

// queueCounts queues a statement whose rows are a district's code and k
// counts, and hands each row to fn.
func queueCounts(b *pgx.Batch, k int, q string, args []any, fn func(code string, n []int)) {
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		return eachRow(rows, func() error {
			var code string
			n := make([]int, k)
			dest := []any{&code}
			for i := range n {
				dest = append(dest, &n[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			fn(code, n)
			return nil
		})
	})
}

// eachRow calls fn for each row and closes rows.
func eachRow(rows pgx.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// plan is how a period is read: whole months and days from the roll-up
// (YYYY-MM-DD, Baku), the rest, [tailFrom, tailTo), live.
type plan struct {
	months, days     []string
	tailFrom, tailTo time.Time
}

// plan splits p at the end of the days that are rolled up or may be:
// those over for rollupGrace on the ledger's clock. With months false
// every day is read by the day.
func (l *Ledger) plan(p routers.Period, months bool) plan {
	closed := calendar.Day(l.now().Add(-rollupGrace)) // the first day not rolled up
	end := p.To
	if closed.Before(end) {
		end = closed
	}
	var pl plan
	day := calendar.Day(p.From)
	for day.Before(end) {
		next := day.AddDate(0, 1, 0)
		if months && day.Day() == 1 && !next.After(end) {
			pl.months = append(pl.months, day.Format(time.DateOnly))
			day = next
			continue
		}
		pl.days = append(pl.days, day.Format(time.DateOnly))
		day = day.AddDate(0, 0, 1)
	}
	pl.tailFrom, pl.tailTo = calendar.Day(p.From), p.To
	if pl.tailFrom.Before(closed) {
		pl.tailFrom = closed
	}
	return pl
}

// rollUp makes sure every span pl reads from the roll-up is there,
// writing those no hub wrote yet. One caller of the process at a time
// does it (the others would only wait for the same rows); spans once seen
// are remembered, since a rolled-up span never changes.
func (l *Ledger) rollUp(ctx context.Context, pl plan) error {
	l.rollMu.Lock()
	defer l.rollMu.Unlock()
	var days, months []string
	for _, d := range pl.days {
		if !l.rolled["day/"+d] {
			days = append(days, d)
		}
	}
	for _, m := range pl.months {
		if l.rolled["month/"+m] {
			continue
		}
		months = append(months, m)
		first, _ := time.ParseInLocation(time.DateOnly, m, routers.Baku)
		for d := first; d.Before(first.AddDate(0, 1, 0)); d = d.AddDate(0, 0, 1) {
			if day := d.Format(time.DateOnly); !l.rolled["day/"+day] {
				days = append(days, day)
			}
		}
	}
	if len(days)+len(months) == 0 {
		return nil
	}
	rows, err := l.pool.Query(ctx, rolledSpans, days, months)
	if err != nil {
		return fmt.Errorf("figures: rolled-up spans: %w", err)
	}
	err = eachRow(rows, func() error {
		var span, first string
		if err := rows.Scan(&span, &first); err != nil {
			return err
		}
		l.rolled[span+"/"+first] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("figures: rolled-up spans: %w", err)
	}
	// Runs of consecutive days, rollWeek at most: one transaction each,
	// so a caller whose time runs out (a scrape's 3 s) leaves the runs it
	// finished for the next.
	var run []string
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := l.rollDays(ctx, run)
		run = nil
		return err
	}
	for _, d := range days {
		if l.rolled["day/"+d] {
			continue
		}
		if len(run) > 0 && (len(run) == rollWeek || nextDay(run[len(run)-1]) != d) {
			if err := flush(); err != nil {
				return err
			}
		}
		run = append(run, d)
	}
	if err := flush(); err != nil {
		return err
	}
	for _, m := range months {
		if l.rolled["month/"+m] {
			continue
		}
		if err := l.rollMonth(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func nextDay(day string) string {
	d, _ := time.ParseInLocation(time.DateOnly, day, routers.Baku)
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

// rollDays rolls up the consecutive days run in one transaction.
func (l *Ledger) rollDays(ctx context.Context, run []string) error {
	from, err := time.ParseInLocation(time.DateOnly, run[0], routers.Baku)
	if err != nil {
		return fmt.Errorf("figures: day %s: %w", run[0], err)
	}
	to := from.AddDate(0, 0, len(run))
	err = l.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimSpans, "day", l.now(), run)
		if err != nil {
			return err
		}
		claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(claimed) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, rollDays, from, to, claimed)
		return err
	})
	if err != nil {
		return fmt.Errorf("figures: roll up %s…%s: %w", run[0], run[len(run)-1], err)
	}
	for _, d := range run {
		l.rolled["day/"+d] = true
	}
	return nil
}

// rollMonth rolls up the month that starts on first from its days.
func (l *Ledger) rollMonth(ctx context.Context, first string) error {
	from, err := time.ParseInLocation(time.DateOnly, first, routers.Baku)
	if err != nil {
		return fmt.Errorf("figures: month %s: %w", first, err)
	}
	next := from.AddDate(0, 1, 0).Format(time.DateOnly)
	err = l.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimSpans, "month", l.now(), []string{first})
		if err != nil {
			return err
		}
		claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(claimed) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, rollMonth, first, next)
		return err
	})
	if err != nil {
		return fmt.Errorf("figures: roll up the month of %s: %w", first, err)
	}
	l.rolled["month/"+first] = true
	return nil
}

// The statements of the per-day chart: the days rolled up ($1 to $2), the
// days not yet ($1, $2 instants).
var (
	rolledPerDay = scope(`SELECT to_char(first_day, 'YYYY-MM-DD'), key, sum(n) FROM figures_rollup
		WHERE span = 'day' AND metric = 'type' AND first_day >= $1::date AND first_day < $2::date {{AND district = $3}}
		GROUP BY 1, 2`)
	livePerDay = scope(`SELECT to_char((registered_at AT TIME ZONE 'Asia/Baku')::date, 'YYYY-MM-DD'), appeal_type, count(*) FROM appeals
		WHERE registered_at >= $1 AND registered_at < $2 {{AND filed_district = $3}} GROUP BY 1, 2`)
)

// AppealsPerDay implements routers.FiguresLedger.
func (l *Ledger) AppealsPerDay(ctx context.Context, district string, p routers.Period) ([]routers.DayCount, error) {
	var out []routers.DayCount
	index := map[string]int{}
	for d := calendar.Day(p.From); d.Before(p.To); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(out)
		out = append(out, routers.DayCount{Date: d.Format(time.DateOnly), ByType: map[string]int{}})
	}
	if len(out) == 0 || !holdable(district) {
		return out, nil
	}
	pl := l.plan(p, false)
	if err := l.rollUp(ctx, pl); err != nil {
		return nil, err
	}
	var b pgx.Batch
	collect := func(rows pgx.Rows) error {
		return eachRow(rows, func() error {
			var (
				day, kind string
				n         int
			)
			if err := rows.Scan(&day, &kind, &n); err != nil {
				return err
			}
			if i, ok := index[day]; ok {
				out[i].ByType[kind] += n
			}
			return nil
		})
	}
	if len(pl.days) > 0 {
		q, args := rolledPerDay.pick(district, pl.days[0], nextDay(pl.days[len(pl.days)-1]))
		b.Queue(q, args...).Query(collect)
	}
	if pl.tailFrom.Before(pl.tailTo) {
		q, args := livePerDay.pick(district, pl.tailFrom, pl.tailTo)
		b.Queue(q, args...).Query(collect)
	}
	if err := l.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("appeals per day: %w", err)
	}
	return out, nil
}

// watchedOverdue and watchedDueSoon list a district's open appeals past
// or near their deadline ($2, $3), oldest deadline first, from appeals_open.
const (
	watchedColumns = `SELECT number, district, service, appeal_type, status, registered_at, to_char(deadline, 'YYYY-MM-DD') FROM appeals
		WHERE district = $1 AND (status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered')
			AND (` + openAppeal + `)`
	watchedOverdue = watchedColumns + ` AND deadline < $2::date ORDER BY deadline, number LIMIT $3`
	watchedDueSoon = watchedColumns + ` AND deadline >= $2::date AND deadline <= $3::date ORDER BY deadline, number LIMIT $4`
)

// Watched implements routers.FiguresLedger.
func (l *Ledger) Watched(ctx context.Context, district string, overdue bool, today, dueSoonBy string, limit int) ([]routers.WatchedAppeal, error) {
	if !holdable(district) || limit <= 0 {
		return nil, nil
	}
	query, args := watchedDueSoon, []any{district, today, dueSoonBy, limit}
	if overdue {
		query, args = watchedOverdue, []any{district, today, limit}
	}
	rows, err := l.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("watched appeals: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.WatchedAppeal, error) {
		var w routers.WatchedAppeal
		err := row.Scan(&w.Number, &w.District, &w.Service, &w.Type, &w.Status, &w.RegisteredAt, &w.Deadline)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("watched appeals: %w", err)
	}
	return list, nil
}

// lifecyclePage reads the next page of appeals registered in [$1, $2)
// after the position ($3, $4), by appeals_registered.
var lifecyclePage = scope(`SELECT number, district, service, appeal_type, status, to_char(deadline, 'YYYY-MM-DD'),
		registered_at, delivered_at, in_progress_at, answered_at, closed_at
	FROM appeals
	WHERE registered_at >= $1 AND registered_at < $2 AND registered_at >= $3 AND (registered_at > $3 OR number > $4)
		{{AND filed_district = $6}}
	ORDER BY registered_at, number LIMIT $5`)

// lifecycleBatch is how many appeals Lifecycles reads at a time: fn may be
// slow (it writes to a client), and no connection is held meanwhile.
const lifecycleBatch = 500

// Lifecycles implements routers.FiguresLedger.
func (l *Ledger) Lifecycles(ctx context.Context, district string, p routers.Period, fn func(routers.Lifecycle) error) error {
	if !holdable(district) {
		return nil
	}
	after, afterNumber := p.From, ""
	for {
		q, args := lifecyclePage.pick(district, p.From, p.To, after, afterNumber, lifecycleBatch)
		rows, err := l.pool.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("lifecycles: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.Lifecycle, error) {
			var (
				c                                       routers.Lifecycle
				delivered, inProgress, answered, closed *time.Time
			)
			err := row.Scan(&c.Number, &c.District, &c.Service, &c.Type, &c.Status, &c.Deadline, &c.RegisteredAt,
				&delivered, &inProgress, &answered, &closed)
			setTimes(delivered, &c.DeliveredAt, inProgress, &c.InProgressAt, answered, &c.AnsweredAt, closed, &c.ClosedAt)
			return c, err
		})
		if err != nil {
			return fmt.Errorf("lifecycles: %w", err)
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < lifecycleBatch {
			return nil
		}
		last := page[len(page)-1]
		after, afterNumber = last.RegisteredAt, last.Number
	}
}
