package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
)

// TestOperatorActionsAppendOnly: the hub's own role can add to the
// operators' record and read it, never change, delete or empty it.
func TestOperatorActionsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, time.Now)
	ctx := t.Context()
	require.NoError(t, ledger.RecordOperatorAction(ctx, routers.OperatorAction{
		Operator: routers.Operator{Name: "Aysel", Role: "operator", Channel: routers.ChannelAPI},
		Action:   routers.ActionDrop, DeadLetterID: 1, Outcome: routers.OutcomeNotFound,
	}))
	for _, stmt := range []string{
		`UPDATE operator_actions SET actor = 'someone else'`,
		`DELETE FROM operator_actions`,
		`TRUNCATE operator_actions`,
	} {
		_, err := pool.Exec(ctx, stmt)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	got, err := ledger.OperatorActions(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "Aysel", got[0].Operator.Name, "unchanged")
}
