package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
)

// TestOversightSweepReadsOpenAppealsOnly holds the sweep's claim to the
// partial index of migration 00008: with 20,000 answered appeals past
// their deadlines beside a few hundred open ones, analysed, the plan reads
// appeals_oversight and never scans the table.
func TestOversightSweepReadsOpenAppealsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := postgrestest.NewPool(t)
	seed := []string{
		`INSERT INTO appeals (number, request_id, district, service, fin, status, sequence, registered_at, deadline,
			request, delivery_state, oversight_level, oversight_deadline)
		SELECT 'AZ-BIL-2025-' || lpad(i::text, 6, '0'), 'req-' || i, 'AZ-BIL', 'appeal', 'F' || lpad((i % 600)::text, 6, '0'),
			(ARRAY['answered', 'closed', 'rejected', 'forwarded'])[1 + i % 4], 4,
			timestamptz '2025-01-06 09:00+04' + i * interval '20 minutes', date '2025-01-27' + i / 72,
			'{}', 'delivered', i % 3, date '2025-01-27' + i / 72
		FROM generate_series(1, 20000) i`,
		// Open appeals: some claimed overdue long ago, some due soon, most not yet.
		`INSERT INTO appeals (number, request_id, district, service, fin, status, sequence, registered_at, deadline,
			request, delivery_state, oversight_level, oversight_deadline)
		SELECT 'AZ-SAT-2026-' || lpad(i::text, 6, '0'), 'open-' || i, 'AZ-SAT', 'appeal', 'F000001',
			(ARRAY['registered', 'delivered', 'in_progress'])[1 + i % 3], 2,
			timestamptz '2026-02-02 09:00+04' + i * interval '3 hours', date '2026-02-20' + i / 8,
			'{}', 'delivered', CASE WHEN i < 100 THEN 2 WHEN i < 130 THEN 1 ELSE 0 END, date '2026-02-20' + i / 8
		FROM generate_series(1, 400) i`,
		`ANALYZE`,
	}
	for _, stmt := range seed {
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	plan := requireIndexed(t, pool, postgres.ClaimCrossingsQuery, "2026-03-19", "2026-03-24", 200)
	require.Contains(t, plan, "appeals_oversight", plan)
}

// TestOversightNewDeadlineArmsAgain: a crossing is claimed for the deadline
// it was computed for; when the deadline moves (an extension), the appeal
// is watched again from no crossing at all.
func TestOversightNewDeadlineArmsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, nil)
	const number = "AZ-BIL-2026-000001"
	_, err := pool.Exec(ctx, `INSERT INTO appeals (number, request_id, district, service, fin, status, sequence,
		registered_at, deadline, request, delivery_state) VALUES ($1, 'req-1', 'AZ-BIL', 'appeal', '5ZJ7K2M', 'in_progress', 3,
		'2026-02-26T10:00:00+04:00', '2026-03-31', '{}', 'delivered')`, number)
	require.NoError(t, err)
	claim := func(today, dueSoonBy string) []routers.OversightKind {
		t.Helper()
		claimed, err := ledger.ClaimCrossings(ctx, today, dueSoonBy, 10, func(c routers.Crossing) routers.OutboxMessage {
			body, err := json.Marshal(c)
			require.NoError(t, err)
			return routers.OutboxMessage{Topic: "oversight", UUID: uuid.NewString(), Payload: body}
		})
		require.NoError(t, err)
		var kinds []routers.OversightKind
		for _, c := range claimed {
			kinds = append(kinds, c.Kind)
		}
		return kinds
	}
	require.Equal(t, []routers.OversightKind{routers.OversightOverdue}, claim("2026-04-01", "2026-04-06"))
	require.Empty(t, claim("2026-04-01", "2026-04-06"))

	_, err = pool.Exec(ctx, `UPDATE appeals SET deadline = '2026-04-13' WHERE number = $1`, number) // extended
	require.NoError(t, err)
	require.Empty(t, claim("2026-04-01", "2026-04-06"), "the new deadline is not near yet")
	require.Equal(t, []routers.OversightKind{routers.OversightDueSoon}, claim("2026-04-08", "2026-04-13"))
	require.Equal(t, []routers.OversightKind{routers.OversightOverdue}, claim("2026-04-14", "2026-04-17"))
	require.Empty(t, claim("2026-04-14", "2026-04-17"))
}
