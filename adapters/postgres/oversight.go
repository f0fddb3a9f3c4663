package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/korpu-az/korpu/routers"
)

// claimedLevel is the crossing claimed for an appeal's current deadline (0
// none, 1 due soon, 2 overdue): a level claimed for another deadline counts
// for nothing. It is the first key of the index appeals_oversight (migration
// 00008), written as the index has it so that the planner matches the two.
const claimedLevel = `(CASE WHEN oversight_deadline = deadline THEN oversight_level ELSE 0 END)`

// claimCrossings claims crossings ($1 today, $2 the due-soon date, $3 the
// limit) in one statement. The CTE reads the two ranges of the index that
// hold only appeals to claim and locks them, skipping those another hub's
// sweep or a status change holds; the UPDATE checks the crossing again
// under the lock. When two hubs race for a row, the second finds the level
// the first committed, so the row is no longer a crossing for it: each
// crossing is claimed once.
const claimCrossings = `
	WITH due AS (
		SELECT number FROM appeals
		WHERE status IN ('registered', 'delivered', 'in_progress')
		  AND ((` + claimedLevel + ` = 0 AND deadline <= $2::date) OR (` + claimedLevel + ` = 1 AND deadline < $1::date))
		ORDER BY deadline, number
		LIMIT $3
		FOR NO KEY UPDATE SKIP LOCKED
	)
	UPDATE appeals SET oversight_level = CASE WHEN deadline < $1::date THEN 2 ELSE 1 END, oversight_deadline = deadline
	FROM due
	WHERE appeals.number = due.number
	  AND status IN ('registered', 'delivered', 'in_progress') AND deadline <= $2::date
	  AND ` + claimedLevel + ` < CASE WHEN deadline < $1::date THEN 2 ELSE 1 END
	RETURNING appeals.number, district, service, status, to_char(deadline, 'YYYY-MM-DD'), oversight_level`

var _ routers.OversightLedger = (*Ledger)(nil)

// ClaimCrossings implements routers.OversightLedger in two round trips:
// the claim, then the events into the outbox and the commit.
func (l *Ledger) ClaimCrossings(ctx context.Context, today, dueSoonBy string, limit int, event func(routers.Crossing) routers.OutboxMessage) ([]routers.Crossing, error) {
	now := l.now() // one instant for everything this commit records
	var claimed []routers.Crossing
	err := l.inPipeline(ctx, func(p *pipeline) error {
		var claim pgx.Batch
		claim.Queue(claimCrossings, today, dueSoonBy, limit)
		br, err := p.send(ctx, &claim)
		if err != nil {
			return err
		}
		rows, err := br.Query()
		if err == nil {
			claimed, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.Crossing, error) {
				var (
					c     routers.Crossing
					level int
				)
				err := row.Scan(&c.AppealNumber, &c.District, &c.Service, &c.Status, &c.Deadline, &level)
				c.Kind = routers.OversightDueSoon
				if level == 2 {
					c.Kind = routers.OversightOverdue
				}
				return c, err
			})
		}
		if closeErr := br.Close(); err == nil && closeErr != nil {
			err = closeErr
		}
		if err != nil {
			return fmt.Errorf("claim crossings: %w", err)
		}
		if len(claimed) == 0 {
			return nil // rolled back: nothing was written
		}
		// RETURNING keeps no order: oldest deadline first, as the port says.
		slices.SortFunc(claimed, func(x, y routers.Crossing) int {
			return cmp.Or(cmp.Compare(x.Deadline, y.Deadline), cmp.Compare(x.AppealNumber, y.AppealNumber))
		})
		messages := make([]routers.OutboxMessage, len(claimed))
		for i, c := range claimed {
			messages[i] = event(c)
		}
		var b pgx.Batch
		queueOutbox(&b, messages, now)
		if err := p.commit(ctx, &b); err != nil {
			return fmt.Errorf("commit crossings: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}
