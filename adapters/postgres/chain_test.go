package postgres_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
)

// verifyChains walks l's history as `korpu audit verify` does.
func verifyChains(t *testing.T, l *postgres.Ledger) []routers.ChainBreak {
	t.Helper()
	var (
		v      routers.ChainVerifier
		breaks []routers.ChainBreak
	)
	require.NoError(t, l.WalkHistory(t.Context(), func(e routers.StoredEvent) error {
		breaks = append(breaks, v.Add(e)...)
		return nil
	}))
	return append(breaks, v.Close()...)
}

var chainedAt = time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)

// registerChained registers an appeal of AZ-BIL, then writes one update
// per batch with one event per note, and returns the appeal and the events.
func registerChained(t *testing.T, l *postgres.Ledger, requestID string, batches ...[]string) (routers.Appeal, []routers.StatusEvent) {
	t.Helper()
	var sent []routers.StatusEvent
	event := func(a routers.Appeal, note string) routers.StatusEvent {
		return routers.StatusEvent{EventID: fmt.Sprintf("%s/%d", requestID, a.Sequence), RequestID: requestID, AppealNumber: a.Number,
			District: a.District, Service: a.Service, Status: routers.StatusInProgress, Sequence: a.Sequence,
			At: routers.FormatTime(chainedAt.Add(time.Duration(a.Sequence) * time.Minute)), Note: note}
	}
	draft := routers.Appeal{RequestID: requestID, District: "AZ-BIL", Service: "appeal", FIN: "5ZJ7K2M",
		Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: chainedAt, Deadline: "2026-12-18",
		Request: []byte(`{}`), Delivery: routers.Delivery{State: routers.DeliveryPending}}
	a, err := l.Register(t.Context(), draft, nil, func(seq int) string { return routers.FormatAppealNumber("AZ-BIL", 2026, seq) },
		func(a routers.Appeal) routers.Effects {
			ev := event(a, "")
			sent = append(sent, ev)
			return routers.Effects{Events: []routers.StatusEvent{ev}}
		})
	require.NoError(t, err)
	for _, notes := range batches {
		require.NoError(t, l.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
			var e routers.Effects
			for _, note := range notes {
				a.Sequence++
				e.Events = append(e.Events, event(*a, note))
			}
			sent = append(sent, e.Events...)
			return e, nil
		}))
	}
	a, err = l.Appeal(t.Context(), a.Number)
	require.NoError(t, err)
	return a, sent
}

// TestChainSurvivesJSONB: what jsonb gives back of a stored event
// canonicalizes to the bytes the hub hashed when it wrote the event (keys
// reordered, HTML characters and escapes unescaped, non-ASCII as it is),
// so the SQL-finished hashes verify in Go.
func TestChainSurvivesJSONB(t *testing.T) {
	t.Parallel()
	pool := postgrestest.NewPool(t)
	l := postgres.NewLedger(pool, nil)
	a, sent := registerChained(t, l, "req-jsonb",
		[]string{`<b>"Abşeron" & tab` + "\t\u2028" + `</b>`, "😀 e\u0301 \\ /"},
		[]string{"1e21 0.1 -0"})

	rows, err := pool.Query(t.Context(), `SELECT event FROM status_history WHERE appeal_number = $1 ORDER BY sequence`, a.Number)
	require.NoError(t, err)
	var stored []json.RawMessage
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		stored = append(stored, raw)
	}
	require.NoError(t, rows.Err())
	require.Len(t, stored, len(sent))
	for i, ev := range sent {
		want, err := routers.CanonicalEvent(ev)
		require.NoError(t, err)
		got, err := routers.CanonicalJSON(stored[i])
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "event %d as jsonb returns it: %s", ev.Sequence, stored[i])
	}
	require.NotEqual(t, string(stored[1]), string(mustCanonical(t, sent[1])), "jsonb does reformat: the test would prove nothing")
	require.Empty(t, verifyChains(t, l))
}

func mustCanonical(t *testing.T, ev routers.StatusEvent) []byte {
	t.Helper()
	b, err := routers.CanonicalEvent(ev)
	require.NoError(t, err)
	return b
}

// TestHistoryIsAppendOnly: the trigger refuses every rewrite of a row,
// even the hub's own role's (here a superuser's, which privileges do not
// bind), and the migration took UPDATE, DELETE and TRUNCATE from the role.
func TestHistoryIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := postgrestest.NewPool(t)
	l := postgres.NewLedger(pool, nil)
	a, _ := registerChained(t, l, "req-rewrite", []string{"answered"})
	for _, stmt := range []string{
		`UPDATE status_history SET event = event || '{"at":"2026-11-27T09:00:00+04:00"}' WHERE appeal_number = $1 AND sequence = 2`,
		`UPDATE status_history SET hash = sha256(hash) WHERE appeal_number = $1 AND sequence = 2`,
		`UPDATE status_history SET hash = NULL WHERE appeal_number = $1 AND sequence = 2`,
		`DELETE FROM status_history WHERE appeal_number = $1 AND sequence = 2`,
		`TRUNCATE status_history, appeals CASCADE`,
	} {
		args := []any{a.Number}
		if stmt[0] == 'T' {
			args = nil
		}
		_, err := pool.Exec(t.Context(), stmt, args...)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, stmt)
		require.Equal(t, "42501", pgErr.Code, stmt)
	}
	require.Empty(t, verifyChains(t, l))

	var privileges []string
	require.NoError(t, pool.QueryRow(t.Context(), `
		SELECT coalesce(array_agg(privilege_type ORDER BY privilege_type), '{}')
		FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'status_history'::regclass))
		WHERE grantee IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
			AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')`).Scan(&privileges))
	require.Empty(t, privileges, "neither PUBLIC (grantee 0) nor the hub's role may rewrite history")
	var hashOnly bool
	require.NoError(t, pool.QueryRow(t.Context(),
		`SELECT has_column_privilege(current_user, 'status_history', 'hash', 'UPDATE')`).Scan(&hashOnly))
	require.True(t, hashOnly, "sealing may fill the hash")
}

// TestLegacyHistoryIsSealed: rows written before migration 00012 (jsonb
// as any writer left it) are chained when the hub migrates, over more than
// one of sealing's pages; an appeal whose history has a gap stays broken
// where the gap is, and the hub appends to a sealed chain as to its own.
func TestLegacyHistoryIsSealed(t *testing.T) {
	t.Parallel()
	pool, err := postgres.Open(t.Context(), postgrestest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.MigrateUpTo(t.Context(), pool, 11))
	_, err = pool.Exec(t.Context(), `INSERT INTO appeals (number, request_id, district, service, fin, status, sequence,
			registered_at, deadline, request, delivery_state)
		SELECT 'AZ-BIL-2025-' || lpad(i::text, 6, '0'), 'req-' || i, 'AZ-BIL', 'appeal', '5ZJ7K2M', 'in_progress', 3,
			timestamptz '2025-06-02 09:00+04', date '2025-06-20', '{}', 'delivered'
		FROM generate_series(1, $1::int) i`, postgres.SealPage/3+7) // the pages' edge falls inside an appeal's history
	require.NoError(t, err)
	// Spaced and ordered as a hand or another program may have left it.
	_, err = pool.Exec(t.Context(), `INSERT INTO status_history (appeal_number, sequence, status, event)
		SELECT a.number, s, 'in_progress', format('{ "sequence" : %s, "status":"in_progress", "note": "Su \u00e7atmır <&>",
			"at": "2025-06-02T09:0%s:00+04:00", "appeal_number": "%s"}', s, s, a.number)::jsonb
		FROM appeals a, generate_series(1, 3) s
		WHERE NOT (a.number = 'AZ-BIL-2025-000005' AND s = 2)`)
	require.NoError(t, err)
	require.NoError(t, postgres.Migrate(t.Context(), pool, quietLogger()))
	l := postgres.NewLedger(pool, nil)
	require.Equal(t, []routers.ChainBreak{{Number: "AZ-BIL-2025-000005", Sequence: 2, Reason: "missing: the history goes on at sequence 3"}}, verifyChains(t, l))

	// The hash of the first row as routers.ChainHash gives it over the
	// event's canonical form.
	first := `{"appeal_number":"AZ-BIL-2025-000001","at":"2025-06-02T09:01:00+04:00","note":"Su çatmır <&>","sequence":1,"status":"in_progress"}`
	links, err := l.Chain(t.Context(), "AZ-BIL-2025-000001")
	require.NoError(t, err)
	require.Len(t, links, 3)
	require.Equal(t, routers.ChainHash("AZ-BIL-2025-000001", 1, routers.ChainGenesis, []byte(first)), links[0].Hash)

	require.NoError(t, postgres.Migrate(t.Context(), pool, quietLogger()), "a second start has nothing to seal")
	require.NoError(t, l.UpdateAppeal(t.Context(), "AZ-BIL-2025-000002", func(a *routers.Appeal) (routers.Effects, error) {
		a.Sequence++
		return routers.Effects{Events: []routers.StatusEvent{{EventID: "e", RequestID: "req-2", AppealNumber: a.Number,
			Status: routers.StatusAnswered, Sequence: a.Sequence, At: "2025-06-03T10:00:00+04:00"}}}, nil
	}))
	require.Len(t, verifyChains(t, l), 1, "the hub's event on a sealed legacy chain verifies; only the gap stays")
}
