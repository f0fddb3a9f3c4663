package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
)

// TestMigrationsUpDownUp proves the down migrations undo the up ones exactly
// enough for the up ones to apply again.
func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	quiet := quietLogger()

	require.NoError(t, postgres.Migrate(ctx, pool, quiet))
	require.NoError(t, postgres.Migrate(ctx, pool, quiet), "a second run applies nothing and fails nothing")
	require.NoError(t, postgres.MigrateDownAll(ctx, pool))
	var tables int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables))
	require.Zero(t, tables, "down leaves no table behind")
	require.NoError(t, postgres.Migrate(ctx, pool, quiet))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'appeals'`).Scan(&tables))
	require.Equal(t, 1, tables)
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestReadsMigrationBackfills: appeals registered before 00007 get their
// type and submission time from the stored request; a time Go's RFC 3339
// took but timestamptz refuses stays unknown instead of failing the start.
func TestReadsMigrationBackfills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.MigrateUpTo(ctx, pool, 6))

	requests := map[string]string{
		"AZ-BIL-2026-000001": `{"submitted_at":"2026-11-27T10:15:04+04:00","appeal":{"type":"complaint"}}`,
		"AZ-BIL-2026-000002": `{"submitted_at":"2026-11-27T06:15:04.25Z","appeal":{"type":"proposal"}}`,
		"AZ-BIL-2026-000003": `{"submitted_at":"2026-11-27T10:15:04+23:00","appeal":{"type":"application"}}`, // offset out of timestamptz's range
		"AZ-BIL-2026-000004": `{"submitted_at":"0000-01-01T00:00:00Z","appeal":{}}`,                          // year 0000
		"AZ-BIL-2026-000005": `{}`,
	}
	for number, request := range requests {
		_, err := pool.Exec(ctx, `INSERT INTO appeals (number, request_id, district, service, fin, status, sequence,
			registered_at, deadline, request, delivery_state) VALUES ($1, $1, 'AZ-BIL', 'appeal', '5ZJ7K2M', 'registered', 1,
			'2026-11-27T10:16:00+04:00', '2026-12-18', $2, 'pending')`, number, request)
		require.NoError(t, err)
	}
	require.NoError(t, postgres.Migrate(ctx, pool, quietLogger()))

	ledger := postgres.NewLedger(pool, nil)
	want := map[string]struct {
		kind      string
		submitted string
	}{
		"AZ-BIL-2026-000001": {"complaint", "2026-11-27T06:15:04Z"},
		"AZ-BIL-2026-000002": {"proposal", "2026-11-27T06:15:04.25Z"},
		"AZ-BIL-2026-000003": {"application", ""},
		"AZ-BIL-2026-000004": {"", ""},
		"AZ-BIL-2026-000005": {"", ""},
	}
	for number, w := range want {
		a, err := ledger.Appeal(ctx, number)
		require.NoError(t, err)
		require.Equal(t, w.kind, a.Type, number)
		if w.submitted == "" {
			require.True(t, a.SubmittedAt.IsZero(), "%s: %v", number, a.SubmittedAt)
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, w.submitted)
		require.NoError(t, err)
		require.True(t, at.Equal(a.SubmittedAt), "%s: %v", number, a.SubmittedAt)
	}
}

// TestFiguresMigrationBackfills: appeals written before 00010 get the
// district of their number (a forwarded one too) and their steps at the
// times their events carry; an answer's working days stay unknown (the
// calendar is the hub's).
func TestFiguresMigrationBackfills(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.MigrateUpTo(ctx, pool, 9))
	for _, stmt := range []string{
		`INSERT INTO appeals (number, request_id, district, service, fin, status, sequence, registered_at, deadline, request, delivery_state)
		VALUES ('AZ-BIL-2026-000001', 'r-1', 'AZ-NRM', 'appeal', '5ZJ7K2M', 'answered', 4, '2026-11-27T10:00:00+04:00', '2026-12-18', '{}', 'delivered'),
			('AZ-SAT-2026-000002', 'r-2', 'AZ-SAT', 'appeal', '5ZJ7K2M', 'forwarded', 3, '2026-11-27T10:00:00+04:00', '2026-11-30', '{}', 'delivered')`,
		`UPDATE appeals SET forwarded_to = 'Nazirlik', forwarded_by = 'AZ-SAT', forwarded_at = '2026-12-01T09:00:00+04:00'
		WHERE number = 'AZ-SAT-2026-000002'`,
		`INSERT INTO status_history (appeal_number, sequence, status, event) VALUES
			('AZ-BIL-2026-000001', 1, 'registered', '{"at": "2026-11-27T10:00:00+04:00"}'),
			('AZ-BIL-2026-000001', 2, 'delivered', '{"at": "2026-11-27T10:00:05+04:00"}'),
			('AZ-BIL-2026-000001', 3, 'in_progress', '{"at": "not a time"}'),
			('AZ-BIL-2026-000001', 4, 'answered', '{"at": "2026-12-18T23:30:00+04:00"}')`,
	} {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, postgres.Migrate(ctx, pool, quietLogger()))

	var filed []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(filed_district ORDER BY number) FROM appeals`).Scan(&filed))
	require.Equal(t, []string{"AZ-BIL", "AZ-SAT"}, filed)
	ledger := postgres.NewLedger(pool, nil)
	a, err := ledger.Appeal(ctx, "AZ-BIL-2026-000001")
	require.NoError(t, err)
	require.True(t, a.DeliveredAt.Equal(time.Date(2026, 11, 27, 6, 0, 5, 0, time.UTC)), "%v", a.DeliveredAt)
	require.True(t, a.InProgressAt.IsZero(), "a time that is none")
	require.True(t, a.AnsweredAt.Equal(time.Date(2026, 12, 18, 19, 30, 0, 0, time.UTC)), "%v", a.AnsweredAt)
	require.True(t, a.OnTime, "on the deadline's day in Baku")
	require.Zero(t, a.AnswerDays)
	b, err := ledger.Appeal(ctx, "AZ-SAT-2026-000002")
	require.NoError(t, err)
	require.True(t, b.AnsweredAt.Equal(b.ForwardedAt), "forwarded off the hub: its answer")
	require.False(t, b.OnTime)
}
