package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/korpu-az/korpu/routers"
)

var _ routers.OperatorLog = (*Ledger)(nil)

// record appends a to the operators' record at the time given; the caller
// holds the lock and has checked a's columns.
func (l *Ledger) record(a routers.OperatorAction, at time.Time) {
	a.ID, a.At = int64(len(l.actions))+1, at
	l.actions = append(l.actions, a)
}

// RecordOperatorAction implements routers.OperatorLog.
func (l *Ledger) RecordOperatorAction(ctx context.Context, a routers.OperatorAction) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record operator action: %w", err)
	}
	var refused refusal
	refused.operatorAction(a)
	if err := refused.err(); err != nil {
		return fmt.Errorf("record operator action: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record(a, l.now())
	return nil
}

// OperatorActions implements routers.OperatorLog.
func (l *Ledger) OperatorActions(ctx context.Context, beforeID int64, limit int) ([]routers.OperatorAction, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("operator actions: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	end := int64(len(l.actions))
	if beforeID > 0 {
		end = min(end, beforeID-1)
	}
	var out []routers.OperatorAction
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, l.actions[i])
	}
	return out, nil
}
