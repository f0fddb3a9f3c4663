package postgres_test

import (
	"context"
	"log/slog"
	"testing"

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
