package ledgertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

func testStats(t *testing.T, newLedger func(*testing.T) Ledger) {
	t.Run("DistrictStats", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		ctx := context.Background()
		at := time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku) // deadline 2026-12-12 by draft
		pending := register(t, l, draft("req-st-1", "AZ-BIL", at))
		delivered := register(t, l, draft("req-st-2", "AZ-BIL", at))
		setDelivery(t, l, delivered.Number, routers.Delivery{State: routers.DeliveryDelivered})
		answered := register(t, l, draft("req-st-3", "AZ-BIL", at))
		require.NoError(t, l.UpdateAppeal(ctx, answered.Number, func(a *routers.Appeal) (routers.Effects, error) {
			a.Status, a.Delivery.State = routers.StatusAnswered, routers.DeliveryDelivered
			return routers.Effects{}, nil
		}))
		failed := register(t, l, draft("req-st-4", "AZ-SAT", at))
		setDelivery(t, l, failed.Number, routers.Delivery{State: routers.DeliveryFailed, LastError: "422"})
		_ = pending

		stats, err := l.DistrictStats(ctx, "2026-12-01")
		require.NoError(t, err)
		require.Equal(t, map[string]routers.DistrictStats{
			"AZ-BIL": {Open: 2, PendingDelivery: 1},
			"AZ-SAT": {Open: 1, FailedDeliveries: 1},
		}, stats, "before the deadline nothing is overdue; answered appeals are not open")

		stats, err = l.DistrictStats(ctx, "2026-12-31")
		require.NoError(t, err)
		require.Equal(t, 2, stats["AZ-BIL"].Overdue, "open appeals past their deadline")
		require.Equal(t, 1, stats["AZ-SAT"].Overdue)
	})
}
