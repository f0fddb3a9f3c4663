package memory

import (
	"context"
	"fmt"

	"github.com/korpu-az/korpu/routers"
)

var _ routers.DeadLetterCounter = (*Ledger)(nil)

// OpenDeadLetters implements routers.DeadLetterCounter.
func (l *Ledger) OpenDeadLetters(ctx context.Context) (map[routers.DeadLetterKind]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open dead letters: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[routers.DeadLetterKind]int{}
	for _, dl := range l.dead {
		if dl.State == routers.DeadLetterOpen {
			out[dl.Kind]++
		}
	}
	return out, nil
}
