// Package postgres keeps the hub's ledger in PostgreSQL through pgx: appeals
// and their history, the idempotency inbox, gap-free numbering, reception
// bookings and the transactional outbox. It implements routers.Ledger.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/korpu-az/korpu/schemas"
)

// defaultMaxConns serves a hub's consumers (they spend most of their time
// off the database) while leaving room for several hubs under PostgreSQL's
// default max_connections of 100.
const defaultMaxConns = 16

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the number of CPUs) starves the hub's concurrent
		// consumers; the operator may still set pool_max_conns in the URL.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return pool, nil
}

// Migrate applies every embedded migration not yet applied, then seals the
// history rows that predate the chain (sealHistory). A session advisory
// lock lets several hub processes start at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	provider, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return sealHistory(ctx, pool, logger)
}

// MigrateDownAll reverts every migration (used by tests that prove the down
// migrations work).
func MigrateDownAll(ctx context.Context, pool *pgxpool.Pool) error {
	provider, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := provider.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("postgres: migrate down: %w", err)
	}
	return nil
}

func newProvider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	migrations, err := fs.Sub(schemas.Migrations, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("postgres: migrations: %w", err), db.Close())
	}
	return provider, db, nil
}
