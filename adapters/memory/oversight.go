package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/korpu-az/korpu/routers"
)

// crossed is the last crossing claimed for an appeal and the deadline it
// was for; another deadline arms the appeal again.
type crossed struct {
	kind     routers.OversightKind
	deadline string
}

// ClaimCrossings implements routers.OversightLedger. It looks at every
// appeal: the demo's ledger holds days of appeals, not years.
func (l *Ledger) ClaimCrossings(ctx context.Context, today, dueSoonBy string, limit int, event func(routers.Crossing) routers.OutboxMessage) ([]routers.Crossing, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("claim crossings: %w", err)
	}
	var refused refusal
	refused.date("today", today)
	refused.date("due_soon_by", dueSoonBy)
	if err := refused.err(); err != nil {
		return nil, fmt.Errorf("claim crossings: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	var due []routers.Crossing
	for _, a := range l.appeals {
		switch a.Status {
		case routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress:
		default:
			continue
		}
		if a.Deadline > dueSoonBy { // dates as YYYY-MM-DD order as strings
			continue
		}
		kind := routers.OversightDueSoon
		if a.Deadline < today {
			kind = routers.OversightOverdue
		}
		if last, ok := l.watched[a.Number]; ok && last.deadline == a.Deadline && (last.kind == kind || last.kind == routers.OversightOverdue) {
			continue
		}
		due = append(due, routers.Crossing{
			Kind: kind, AppealNumber: a.Number, District: a.District, Service: a.Service, Status: a.Status, Deadline: a.Deadline,
		})
	}
	slices.SortFunc(due, func(x, y routers.Crossing) int {
		return cmp.Or(cmp.Compare(x.Deadline, y.Deadline), cmp.Compare(x.AppealNumber, y.AppealNumber))
	})
	due = due[:min(max(limit, 0), len(due))]
	messages := make([]routers.OutboxMessage, len(due))
	for i, c := range due {
		messages[i] = event(c)
	}
	refused.messages(messages)
	if err := refused.err(); err != nil {
		return nil, fmt.Errorf("claim crossings: %w", err)
	}
	for _, c := range due {
		l.watched[c.AppealNumber] = crossed{kind: c.Kind, deadline: c.Deadline}
	}
	l.commit(routers.Effects{Messages: messages}, nil)
	return due, nil
}
