package postgres

import (
	"context"
	"fmt"

	"github.com/korpu-az/korpu/routers"
)

var _ routers.DeadLetterCounter = (*Ledger)(nil)

// OpenDeadLetters implements routers.DeadLetterCounter from the index on
// (state, id): one scrape reads the open letters' index entries, never their bodies.
func (l *Ledger) OpenDeadLetters(ctx context.Context) (map[routers.DeadLetterKind]int, error) {
	rows, err := l.pool.Query(ctx, `SELECT kind, count(*) FROM dead_letters WHERE state = $1 GROUP BY kind`,
		string(routers.DeadLetterOpen))
	if err != nil {
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	defer rows.Close()
	out := map[routers.DeadLetterKind]int{}
	for rows.Next() {
		var (
			kind string
			n    int
		)
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("open dead letters: %w", err)
		}
		out[routers.DeadLetterKind(kind)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	return out, nil
}
