package memory_test

import (
	"testing"
	"time"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

func TestLedger(t *testing.T) {
	t.Parallel()
	ledgertest.Run(t, func(_ *testing.T, now func() time.Time) ledgertest.Ledger { return memory.NewLedger(now) })
}
