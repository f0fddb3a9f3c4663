package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
)

// TestFiguresUseIndexes holds the figures' statements to their indexes,
// as TestReadsUseIndexes does the portal's: on a few thousand appeals, most
// answered, analysed, a statement that lost its index would plan a
// sequential scan of appeals (or the inbox, or the roll-up, here four
// years of days) here. Claiming spans inserts the rows it is given.
func TestFiguresUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := postgrestest.NewPool(t)
	seed := []string{
		`INSERT INTO appeals (number, request_id, district, filed_district, service, fin, status, sequence, registered_at, deadline,
			request, delivery_state, appeal_type, delivered_at, answered_at, answer_days, answered_on_time,
			extended, extended_at, forwarded_to, forwarded_by, forwarded_at, forwarded_late)
		SELECT 'AZ-BIL-2026-' || lpad(i::text, 6, '0'), 'req-' || i, d, d,
			(ARRAY['appeal', 'reception-booking', 'family-composition-certificate'])[1 + i % 3],
			'F' || lpad((i % 600)::text, 6, '0'), CASE WHEN i % 20 = 0 THEN 'in_progress' ELSE 'answered' END, 4,
			at, (at + interval '21 days')::date, '{}', 'delivered', 'complaint', at + interval '1 minute',
			CASE WHEN i % 20 <> 0 THEN at + interval '3 days' END, CASE WHEN i % 20 <> 0 THEN i % 15 END, i % 7 <> 0,
			i % 40 = 1, CASE WHEN i % 40 = 1 THEN at + interval '1 day' END,
			CASE WHEN i % 50 = 2 THEN 'Nazirlik' ELSE '' END, CASE WHEN i % 50 = 2 THEN d ELSE '' END,
			CASE WHEN i % 50 = 2 THEN at + interval '2 days' END, i % 100 = 2
		FROM generate_series(1, 6000) i,
			LATERAL (SELECT timestamptz '2026-01-05 09:00+04' + i * interval '7 minutes' AS at,
				(ARRAY['AZ-BIL', 'AZ-NRM'])[1 + i % 2] AS d) x`,
		`INSERT INTO inbox (request_id, outcome, received_at, district, refused_field)
		SELECT 'req-' || i, 'registered', timestamptz '2026-01-05 09:00+04' + i * interval '7 minutes', '', '' FROM generate_series(1, 6000) i
		UNION ALL
		SELECT 'bad-' || i, 'invalid', timestamptz '2026-01-05 09:00+04' + i * interval '140 minutes', 'AZ-BIL', 'citizen.fin'
		FROM generate_series(1, 300) i`,
		`INSERT INTO figures_spans (span, first_day, rolled_at)
		SELECT 'day', date '2022-01-01' + i, timestamptz '2026-02-01 00:00+04' FROM generate_series(0, 1499) i`,
		`INSERT INTO figures_rollup (span, first_day, district, metric, key, n)
		SELECT 'day', date '2022-01-01' + i, d, m, k, 1 + i % 9
		FROM generate_series(0, 1499) i, unnest(ARRAY['AZ-BIL', 'AZ-NRM']) d,
			(VALUES ('registered', ''), ('type', 'complaint'), ('type', 'proposal'), ('service', 'appeal'), ('service', 'reception-booking'),
				('repeat', ''), ('invalid', 'citizen.fin'), ('answer_days', '4'), ('answer_days', '9'), ('on_time', '')) v(m, k)`,
		`INSERT INTO dead_letters (kind, queue, body, body_size, body_sha256, error, appeal_number, fingerprint, state)
		SELECT 'appeal', 'korpu.district.AZ-BIL', '', 0, '', 'refused', 'AZ-BIL-2026-' || lpad(i::text, 6, '0'), 'fp-' || i,
			CASE WHEN i % 100 = 0 THEN 'dead' ELSE 'dropped' END
		FROM generate_series(1, 2000) i`,
		`ANALYZE`,
	}
	for _, stmt := range seed {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	day := func(d string) time.Time {
		at, err := time.ParseInLocation(time.DateOnly, d, routers.Baku)
		require.NoError(t, err)
		return at
	}
	tail := []any{day("2026-01-20"), day("2026-01-21")}
	rolledDays := []string{"2025-07-01", "2025-07-02", "2025-07-03"}
	plans := []struct {
		name  string
		query string
		args  []any
	}{
		{"SpanCounts", postgres.SpanCountsAll, tail},
		{"SpanCountsOfDistrict", postgres.SpanCountsOne, append(tail, "AZ-BIL")},
		{"RollDays", postgres.RollDays, append(tail, []string{"2026-01-20"})},
		{"RollMonth", postgres.RollMonth, []any{"2025-07-01", "2025-08-01"}},
		{"RolledSpans", postgres.RolledSpans, []any{rolledDays, []string{"2025-07-01"}}},
		{"RolledCounts", postgres.RolledCountsAll, []any{[]string{"2025-07-01"}, rolledDays}},
		{"RolledCountsOfDistrict", postgres.RolledCountsOne, []any{[]string{"2025-07-01"}, rolledDays, "AZ-BIL"}},
		{"Extended", postgres.ExtendedCountsAll, tail},
		{"ExtendedOfDistrict", postgres.ExtendedCountsOne, append(tail, "AZ-BIL")},
		{"Forwarded", postgres.ForwardedCountsAll, tail},
		{"ForwardedOfDistrict", postgres.ForwardedCountsOne, append(tail, "AZ-BIL")},
		{"Open", postgres.OpenCountsAll, []any{"2026-02-01", "2026-02-04"}},
		{"OpenOfDistrict", postgres.OpenCountsOne, []any{"2026-02-01", "2026-02-04", "AZ-BIL"}},
		{"DeadLetters", postgres.DeadLetterCountsAll, nil},
		{"DeadLettersOfDistrict", postgres.DeadLetterCountsOne, []any{"AZ-BIL"}},
		{"WatchedOverdue", postgres.WatchedOverdue, []any{"AZ-BIL", "2026-02-01", 100}},
		{"WatchedDueSoon", postgres.WatchedDueSoon, []any{"AZ-BIL", "2026-02-01", "2026-02-04", 100}},
		{"RolledPerDay", postgres.RolledPerDayAll, []any{"2025-07-01", "2025-09-28"}},
		{"RolledPerDayOfDistrict", postgres.RolledPerDayOne, []any{"2025-07-01", "2025-09-28", "AZ-BIL"}},
		{"LivePerDay", postgres.LivePerDayAll, tail},
		{"LivePerDayOfDistrict", postgres.LivePerDayOne, append(tail, "AZ-BIL")},
		{"LifecyclePage", postgres.LifecyclePageAll, []any{day("2026-01-01"), day("2026-02-01"), day("2026-01-10"), "AZ-BIL-2026-001000", 500}},
		{"LifecyclePageOfDistrict", postgres.LifecyclePageOne,
			[]any{day("2026-01-01"), day("2026-02-01"), day("2026-01-10"), "AZ-BIL-2026-001000", 500, "AZ-BIL"}},
	}
	for _, p := range plans {
		t.Run(p.name, func(t *testing.T) { requireIndexed(t, pool, p.query, p.args...) })
	}
}

// TestFiguresRollUpOnceAcrossHubs: hub processes asking at once roll each
// day up once and agree; a day rolled up is read from its roll-up (a row
// written behind the ledger's back into it changes nothing), today live.
func TestFiguresRollUpOnceAcrossHubs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	now := func() time.Time { return time.Date(2026, 3, 20, 9, 0, 0, 0, routers.Baku) }
	var (
		ledgers [3]*postgres.Ledger
		pools   [3]*pgxpool.Pool
	)
	for i := range ledgers {
		pool, err := postgres.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		if i == 0 {
			require.NoError(t, postgres.Migrate(ctx, pool, quietLogger()))
		}
		pools[i], ledgers[i] = pool, postgres.NewLedger(pool, now)
	}
	// 60 appeals over February and March, every 19 hours.
	for i := range 60 {
		at := time.Date(2026, 2, 1, 10, 0, 0, 0, routers.Baku).Add(time.Duration(i) * 19 * time.Hour)
		district := []string{"AZ-BIL", "AZ-NRM"}[i%2]
		draft := routers.Appeal{
			RequestID: fmt.Sprintf("req-%d", i), District: district, Service: "appeal", FIN: "5ZJ7K2M", Type: "complaint",
			Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: at, Deadline: "2026-04-30",
			Request: []byte(`{}`), Delivery: routers.Delivery{State: routers.DeliveryPending},
		}
		_, err := ledgers[0].Register(ctx, draft, nil, func(seq int) string { return routers.FormatAppealNumber(district, 2026, seq) },
			func(routers.Appeal) routers.Effects { return routers.Effects{} })
		require.NoError(t, err)
	}
	p := routers.Period{From: time.Date(2026, 1, 15, 0, 0, 0, 0, routers.Baku), To: time.Date(2026, 3, 21, 0, 0, 0, 0, routers.Baku)}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []map[string]routers.Figures
	)
	for i := range 6 {
		wg.Go(func() {
			got, err := ledgers[i%len(ledgers)].Figures(ctx, p, "2026-03-20", "2026-03-25")
			require.NoError(t, err)
			mu.Lock()
			results = append(results, got)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, got := range results[1:] {
		require.Equal(t, results[0], got)
	}
	require.Equal(t, 60, results[0][""].Registered)
	var spans, dupes int
	require.NoError(t, pools[0].QueryRow(ctx, `SELECT count(*), count(*) - count(DISTINCT (span, first_day)) FROM figures_spans`).Scan(&spans, &dupes))
	require.Equal(t, 65, spans, "64 days (15 January to 19 March) and February")
	require.Zero(t, dupes)

	// Behind the ledger's back, an appeal in a day rolled up and one today.
	for i, at := range []string{"2026-02-10 12:00+04", "2026-03-20 08:00+04"} {
		_, err := pools[0].Exec(ctx, `INSERT INTO appeals (number, request_id, district, filed_district, service, fin, status, sequence,
			registered_at, deadline, request, delivery_state, appeal_type)
			VALUES ($1, $1, 'AZ-BIL', 'AZ-BIL', 'appeal', '5ZJ7K2M', 'registered', 1, $2, '2026-04-30', '{}', 'pending', 'complaint')`,
			fmt.Sprintf("AZ-BIL-2026-%06d", 900+i), at)
		require.NoError(t, err)
	}
	for _, l := range ledgers {
		got, err := l.Figures(ctx, p, "2026-03-20", "2026-03-25")
		require.NoError(t, err)
		require.Equal(t, 61, got[""].Registered, "the rolled-up day as it was rolled up; today as it is")
	}
}
