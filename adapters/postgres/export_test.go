package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateUpTo applies the migrations up to version, for tests of a
// migration's treatment of the data that came before it.
func MigrateUpTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	provider, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := provider.UpTo(ctx, version); err != nil {
		return fmt.Errorf("postgres: migrate up to %d: %w", version, err)
	}
	return nil
}

// The reads' statements, for the test of their plans.
const (
	HistoryFirst   = historyFirst
	HistoryAfter   = historyAfter
	RecordAppeal   = recordAppeal
	RecordHistory  = recordHistory
	RecordComments = recordComments
	BookedQuery    = bookedQuery
)

// The figures' statements, for the test of their plans.
var (
	SpanCountsAll, SpanCountsOne             = spanCounts.all, spanCounts.one
	RollDays, RollMonth                      = rollDays, rollMonth
	RolledCountsAll, RolledCountsOne         = rolledCounts.all, rolledCounts.one
	ExtendedCountsAll, ExtendedCountsOne     = extendedCounts.all, extendedCounts.one
	ForwardedCountsAll, ForwardedCountsOne   = forwardedCounts.all, forwardedCounts.one
	OpenCountsAll, OpenCountsOne             = openCounts.all, openCounts.one
	DeadLetterCountsAll, DeadLetterCountsOne = deadLetterCounts.all, deadLetterCounts.one
	RolledPerDayAll, RolledPerDayOne         = rolledPerDay.all, rolledPerDay.one
	LivePerDayAll, LivePerDayOne             = livePerDay.all, livePerDay.one
	LifecyclePageAll, LifecyclePageOne       = lifecyclePage.all, lifecyclePage.one
	RolledSpans                              = rolledSpans
)

// Watched's statements.
const (
	WatchedOverdue = watchedOverdue
	WatchedDueSoon = watchedDueSoon
)

// SealPage is how many rows one of sealHistory's transactions seals.
const SealPage = sealPage

// PoolConfig and Classify let the failover tests build a pool as Open does
// and judge its errors as the ledger does.
var (
	PoolConfig = poolConfig
	Classify   = classify
)
