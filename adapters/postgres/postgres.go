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
	"time"

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

// defaultConnectTimeout bounds the connection attempt to each host of the
// URL when it sets no connect_timeout. pgx tries a multi-host URL's hosts
// in order, on every new connection: unbounded, a host gone without a
// reset (a dead machine, a partition) would hold each one for the kernel's
// TCP timeout, minutes, before the new primary behind it is tried.
const defaultConnectTimeout = 5 * time.Second

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
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

// poolConfig is url's pool configuration with the hub's defaults for what
// url leaves unset. A failover needs nothing more of the pool: pgx closes
// a connection on a network error or a FATAL (the server shutting down or
// crashing), pgxpool destroys a closed connection on release and pings one
// idle for over a second before handing it out, and every new connection
// looks for the primary again (target_session_attrs). The ping is bounded
// like a connection, so a connection to a vanished host is dropped quickly.
func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the number of CPUs) starves the hub's concurrent
		// consumers; the operator may still set pool_max_conns in the URL.
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !strings.Contains(url, "pool_ping_timeout") {
		cfg.PingTimeout = cfg.ConnConfig.ConnectTimeout
	}
	return cfg, nil
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
