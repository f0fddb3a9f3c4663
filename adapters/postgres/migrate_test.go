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
