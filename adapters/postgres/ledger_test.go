package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

func TestLedgerConformance(t *testing.T) {
	t.Parallel()
	ledgertest.Run(t, func(t *testing.T, now func() time.Time) ledgertest.Ledger {
		return postgres.NewLedger(postgrestest.NewPool(t), now)
	})
}

// TestTwoProcessesNumberGapFree registers through two separate pools, as two
// hub processes would, and gets numbers 1..n with neither gaps nor repeats.
func TestTwoProcessesNumberGapFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	var ledgers [2]*postgres.Ledger
	for i := range ledgers {
		pool, err := postgres.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		if i == 0 {
			require.NoError(t, postgres.Migrate(ctx, pool, quietLogger()))
		}
		ledgers[i] = postgres.NewLedger(pool, time.Now)
	}
	const perProcess = 60
	registered := time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)
	var (
		mu      sync.Mutex
		numbers = map[string]bool{}
		wg      sync.WaitGroup
	)
	for p, ledger := range ledgers {
		for i := range perProcess {
			wg.Go(func() {
				draft := routers.Appeal{
					RequestID: routers.FormatAppealNumber("req", p, i), District: "AZ-BIL", Service: "appeal", FIN: "5ZJ7K2M",
					Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: registered, Deadline: "2026-12-18",
					Request: []byte(`{}`), Delivery: routers.Delivery{State: routers.DeliveryPending},
				}
				a, err := ledger.Register(ctx, draft, nil,
					func(seq int) string { return routers.FormatAppealNumber("AZ-BIL", 2026, seq) },
					func(routers.Appeal) routers.Effects { return routers.Effects{} })
				require.NoError(t, err)
				mu.Lock()
				numbers[a.Number] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	require.Len(t, numbers, 2*perProcess)
	for seq := 1; seq <= 2*perProcess; seq++ {
		require.True(t, numbers[routers.FormatAppealNumber("AZ-BIL", 2026, seq)], "number %d missing", seq)
	}
}
