package bench

import (
	"bytes"
	"context"
	"encoding/json"
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
)

// TestSeedIsALedgerTheHubWrote seeds a small ledger and reads it back
// through the PostgreSQL ledger: numbers gap-free per district and year
// with the counters at the last, valid FİNs, requests in the contract's
// shape that agree with their columns, histories that run 1…sequence in
// time order and end in the appeal's status, comments with their events,
// every id claimed in the inbox, and the schema's indexes as the
// migrations made them.
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
		FROM appeal_counters c JOIN appeals a ON a.district = c.district AND split_part(a.number, '-', 3)::int = c.year
		GROUP BY c.district, c.year, c.last_seq`)
	require.NoError(t, err)
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
		require.Equal(t, []string{req.ID, req.District, req.Service, req.Citizen.FIN, req.Appeal.Type},
			[]string{a.RequestID, a.District, a.Service, a.FIN, a.Type}, number)
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
			require.Equal(t, a.Deadline, ev.Deadline)
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
		require.Len(t, rec.Comments, commented, number)
		require.True(t, slices.IsSortedFunc(rec.Comments, func(x, y routers.Comment) int { return x.SubmittedAt.Compare(y.SubmittedAt) }))

		history, err := ledger.AppealsOf(ctx, a.FIN, routers.HistoryFilter{}, routers.HistoryPosition{}, routers.MaxHistoryPage)
		require.NoError(t, err)
		found := slices.IndexFunc(history, func(h routers.AppealSummary) bool { return h.Number == number })
		require.GreaterOrEqual(t, found, 0, number)
		require.Equal(t, rec.Events[len(rec.Events)-1].At, routers.FormatTime(history[found].ChangedAt), number)
	}
}

func indexDefs(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`)
	require.NoError(t, err)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return defs
}
