package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestWarmFiguresRollsUpTheYear: at start, serve has the last year's days
// that are over rolled up, so no monitor's first view pays for it.
func TestWarmFiguresRollsUpTheYear(t *testing.T) {
	t.Parallel()
	pool := postgrestest.NewPool(t)
	now := func() time.Time { return time.Date(2026, 4, 15, 10, 0, 0, 0, routers.Baku) }
	monitor := routers.NewMonitor(routers.MonitorConfig{
		Ledger: postgres.NewLedger(pool, now), Calendar: calendar.Default(), Now: now,
		Directory: routers.Directory{Districts: map[string]routers.DistrictInfo{"AZ-BIL": {Code: "AZ-BIL", AllServices: true}}},
	})
	var spans int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM figures_spans`).Scan(&spans))
	require.Zero(t, spans)
	warmFigures(t.Context(), monitor, slog.New(slog.DiscardHandler))
	var first, last time.Time
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*), min(first_day), max(first_day) FROM figures_spans`).Scan(&spans, &first, &last))
	require.Positive(t, spans)
	require.Equal(t, "2025", first.Format("2006"), "the year before today is rolled up")
	require.Equal(t, "2026-04-14", last.Format(time.DateOnly), "up to yesterday, the last day over")
}
