package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipeline is a transaction sent in pipelined batches: BEGIN travels with
// the first statements and COMMIT with the last, so the hub's hot
// read-modify-write transactions cost two round trips instead of four. Every
// round trip saved is a wake-up of a database backend and two system calls
// on each side, which on a busy machine is most of the cost.
type pipeline struct {
	conn      *pgxpool.Conn
	began     bool
	committed bool
}

// inPipeline runs fn on a connection of its own and rolls the transaction
// back unless fn committed it.
func (l *Ledger) inPipeline(ctx context.Context, fn func(*pipeline) error) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release() // pgxpool closes a connection released inside a transaction
	p := &pipeline{conn: conn}
	err = fn(p)
	if p.began && !p.committed {
		// Whatever failed, the transaction must end before the connection is
		// reused; if even ROLLBACK fails, pgxpool discards the connection.
		rollbackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = conn.Exec(rollbackCtx, "ROLLBACK")
		cancel()
	}
	return classify(err)
}

// send sends b, opening the transaction first if it is not open yet, and
// returns the results of b's own statements.
func (p *pipeline) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if p.began {
		return p.conn.SendBatch(ctx, b), nil
	}
	withBegin := &pgx.Batch{}
	withBegin.Queue("BEGIN")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	p.began = true
	br := p.conn.SendBatch(ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("begin: %w", err)
	}
	return br, nil
}

// commit sends b with COMMIT at its end and checks every statement.
func (p *pipeline) commit(ctx context.Context, b *pgx.Batch) error {
	b.Queue("COMMIT")
	br, err := p.send(ctx, b)
	if err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return err
	}
	p.committed = true
	return nil
}
