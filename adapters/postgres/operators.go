package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/korpu-az/korpu/routers"
)

var _ routers.OperatorLog = (*Ledger)(nil)

// insertOperatorAction appends to the operators' record (00011), which a
// trigger keeps append-only.
const insertOperatorAction = `INSERT INTO operator_actions (at, actor, role, channel, action, dead_letter_id, appeal_number, outcome)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

func operatorActionArgs(a routers.OperatorAction, at time.Time) []any {
	return []any{at, a.Operator.Name, a.Operator.Role, a.Operator.Channel, a.Action, a.DeadLetterID, a.AppealNumber, a.Outcome}
}

// recordOperatorAction writes a in the transaction of what it did.
func recordOperatorAction(ctx context.Context, tx pgx.Tx, a routers.OperatorAction, at time.Time) error {
	if _, err := tx.Exec(ctx, insertOperatorAction, operatorActionArgs(a, at)...); err != nil {
		return fmt.Errorf("record operator action: %w", err)
	}
	return nil
}

// RecordOperatorAction implements routers.OperatorLog.
func (l *Ledger) RecordOperatorAction(ctx context.Context, a routers.OperatorAction) error {
	if _, err := l.pool.Exec(ctx, insertOperatorAction, operatorActionArgs(a, l.now())...); err != nil {
		return classify(fmt.Errorf("record operator action: %w", err))
	}
	return nil
}

// OperatorActions implements routers.OperatorLog.
func (l *Ledger) OperatorActions(ctx context.Context, beforeID int64, limit int) ([]routers.OperatorAction, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, at, actor, role, channel, action, dead_letter_id, appeal_number, outcome
		FROM operator_actions WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("operator actions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.OperatorAction, error) {
		var a routers.OperatorAction
		err := row.Scan(&a.ID, &a.At, &a.Operator.Name, &a.Operator.Role, &a.Operator.Channel, &a.Action, &a.DeadLetterID, &a.AppealNumber, &a.Outcome)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("operator actions: %w", err)
	}
	return out, nil
}
