package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
)

// TestReadsUseIndexes holds the portal's reads to index scans: with a few
// thousand appeals of a few hundred citizens, analysed, the planner already
// prefers a sequential scan for any read the indexes do not serve, so a
// read that loses its index fails here long before a national ledger
// grinds through millions of rows.
func TestReadsUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := postgrestest.NewPool(t)
	seed := []string{
		`INSERT INTO appeals (number, request_id, district, service, fin, status, sequence, registered_at, deadline,
			request, delivery_state, appeal_type, submitted_at)
		SELECT 'AZ-BIL-2026-' || lpad(i::text, 6, '0'), 'req-' || i, 'AZ-BIL',
			(ARRAY['appeal', 'reception-booking', 'family-composition-certificate'])[1 + i % 3],
			'F' || lpad((i % 600)::text, 6, '0'), (ARRAY['answered', 'delivered', 'in_progress'])[1 + i % 3], 3,
			timestamptz '2026-01-05 09:00+04' + i * interval '7 minutes', date '2026-02-01',
			jsonb_build_object('kind', 'request', 'id', 'req-' || i, 'appeal', jsonb_build_object('type', 'complaint',
				'text', repeat('Kəndimizdə içməli su verilmir. ', 8))),
			'delivered', 'complaint', timestamptz '2026-01-05 09:00+04' + i * interval '7 minutes' - interval '1 minute'
		FROM generate_series(1, 6000) i`,
		// A placeholder hash, not a chain: the plans do not depend on it.
		`INSERT INTO status_history (appeal_number, sequence, status, event, hash)
		SELECT a.number, s, 'delivered', jsonb_build_object('sequence', s, 'status', 'delivered',
			'at', to_char(a.registered_at + s * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SSOF":00"')),
			sha256(convert_to(a.number || '/' || s, 'UTF8'))
		FROM appeals a, generate_series(1, 3) s`,
		`INSERT INTO comments (id, appeal_number, text, submitted_at, delivery_state)
		SELECT 'c-' || number, number, 'Problem hələ də davam edir.', registered_at + interval '1 day', 'delivered'
		FROM appeals WHERE right(number, 1) = '5'`,
		`INSERT INTO reception_bookings (official_id, day, booked)
		SELECT 'OFF-' || (i % 200), date '2026-01-05' + i / 200, 1 + i % 20 FROM generate_series(1, 6000) i`,
		`ANALYZE`,
	}
	for _, stmt := range seed {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	after := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	reads := []struct {
		name  string
		query string
		args  []any
	}{
		{"HistoryFirstPage", postgres.HistoryFirst, []any{"F000042", "", "", 21}},
		{"HistoryFiltered", postgres.HistoryFirst, []any{"F000042", "delivered", "appeal", 21}},
		{"HistoryNextPage", postgres.HistoryAfter, []any{"F000042", "", "", 21, after, "AZ-BIL-2026-003000"}},
		{"RecordAppeal", postgres.RecordAppeal, []any{"AZ-BIL-2026-004242"}},
		{"RecordHistory", postgres.RecordHistory, []any{"AZ-BIL-2026-004242"}},
		{"RecordComments", postgres.RecordComments, []any{"AZ-BIL-2026-004245"}},
		{"Booked", postgres.BookedQuery, []any{"OFF-7", []string{"2026-01-10", "2026-01-12", "2026-01-13", "2026-01-14"}}},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) { requireIndexed(t, pool, r.query, r.args...) })
	}
}

// requireIndexed explains query with args and requires an index in the
// plan and no sequential scan; it returns the plan.
func requireIndexed(t *testing.T, pool *pgxpool.Pool, query string, args ...any) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "EXPLAIN "+query, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	require.Contains(t, plan, "Index", plan)
	require.NotContains(t, plan, "Seq Scan", plan)
	return plan
}
