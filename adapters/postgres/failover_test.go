package postgres_test

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
)

// TestPoolConfigDefaults: what the URL leaves unset gets the hub's bounds;
// what it sets wins.
func TestPoolConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := postgres.PoolConfig("postgres://u@h1:5432,h2:5432/db?target_session_attrs=read-write")
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, cfg.ConnConfig.ConnectTimeout)
	require.Equal(t, 5*time.Second, cfg.PingTimeout)
	require.EqualValues(t, 16, cfg.MaxConns)

	cfg, err = postgres.PoolConfig("postgres://u@h1/db?connect_timeout=2&pool_ping_timeout=750ms&pool_max_conns=3")
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, cfg.ConnConfig.ConnectTimeout)
	require.Equal(t, 750*time.Millisecond, cfg.PingTimeout)
	require.EqualValues(t, 3, cfg.MaxConns)
}

// TestOpenSkipsSilentHost: the first host of the URL accepts TCP and never
// answers (a machine gone without a reset); Open reaches the server behind
// it within the default connect timeout instead of hanging on the first.
func TestOpenSkipsSilentHost(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		var held []net.Conn // accepted and never answered
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	u, err := url.Parse(postgrestest.NewDatabase(t))
	require.NoError(t, err)
	u.Host = silent.Addr().String() + "," + u.Host
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	pool, err := postgres.Open(ctx, u.String())
	require.NoError(t, err)
	pool.Close()
	require.Less(t, time.Since(start), 15*time.Second, "the silent host held the connection beyond its bound")
}

// TestPoolDropsBrokenConnections: every pooled connection's server process
// ends (as at a primary's crash); the queries that meet a dead connection
// fail with an error the hub retries, never a permanent one, the pool drops
// those connections, and the next queries are served by new ones.
func TestPoolDropsBrokenConnections(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := postgres.PoolConfig(postgrestest.NewDatabase(t) + "&pool_max_conns=4")
	require.NoError(t, err)
	// Hand out idle connections unpinged, so that the dead ones reach the
	// queries: the ping on acquire would otherwise hide them.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	// Fill the pool: four connections, all idle afterwards.
	conns := make([]*pgxpool.Conn, 4)
	for i := range conns {
		conns[i], err = pool.Acquire(ctx)
		require.NoError(t, err)
	}
	for _, c := range conns {
		c.Release()
	}
	var db string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_database()").Scan(&db))

	admin, err := pgx.Connect(ctx, postgrestest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	var ended int
	require.NoError(t, admin.QueryRow(ctx,
		`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = $1`, db).Scan(&ended))
	require.Equal(t, 4, ended)

	failed := 0
	for range 8 {
		var one int
		err := pool.QueryRow(ctx, "SELECT 1").Scan(&one)
		if err != nil {
			failed++
			require.False(t, routers.IsPermanent(postgres.Classify(err)), "a dead connection's error is permanent: %v", err)
			continue
		}
		require.Equal(t, 1, one)
	}
	require.Positive(t, failed, "no query met a dead connection: the test proves nothing")
	require.LessOrEqual(t, failed, 4, "more failures than dead connections: the pool kept some")
	var one int
	require.NoError(t, pool.QueryRow(ctx, "SELECT 1").Scan(&one), "the pool serves again")
}
