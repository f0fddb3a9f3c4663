package memory_test

import (
	"testing"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/ledgertest"
)

func TestLedger(t *testing.T) {
	t.Parallel()
	ledgertest.Run(t, func(*testing.T) routers.Ledger { return memory.NewLedger() })
}
