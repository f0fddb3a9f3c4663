// Package postgrestest gives each test its own migrated database on the real
// PostgreSQL server, so tests run in parallel and again without interfering.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/korpu-az/korpu/adapters/postgres"
)

// AdminURL is the server tests create their databases on: KORPU_TEST_POSTGRES_URL
// or the local server with trust authentication.
func AdminURL() string {
	if u := os.Getenv("KORPU_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewDatabase creates an empty database for t on AdminURL and drops it
// when t ends. It returns the database's URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return NewDatabaseOn(t, AdminURL())
}

// NewDatabaseOn is NewDatabase on the server of adminURL, which may list
// several hosts (a primary and its standbys, target_session_attrs=read-write):
// the database is dropped on whichever is primary when t ends.
func NewDatabaseOn(t testing.TB, adminURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatal(err)
	}
	name := "korpu_test_" + hex.EncodeToString(suffix[:])
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("postgrestest: connect to %s: %v (is PostgreSQL running? .ci/run starts it)", adminURL, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgrestest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("postgrestest: drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("postgrestest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// NewPool creates a migrated database for t and returns a pool on it.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A small pool: many tests run at once against one server.
	pool, err := postgres.Open(ctx, NewDatabase(t)+"&pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return pool
}
