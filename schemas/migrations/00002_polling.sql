-- Polling of district systems that cannot call back (ESD), and the index
-- reconciliation uses to find appeals that have not changed for long.

-- +goose Up
CREATE TABLE poll_cursors (
    district   text PRIMARY KEY,
    resume_at  timestamptz NOT NULL,         -- Tarixden of the next DeyisiklikleriAl
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appeals_stale ON appeals (district, updated_at)
    WHERE delivery_state = 'delivered' AND status <> 'closed';

-- +goose Down
DROP INDEX appeals_stale;
DROP TABLE poll_cursors;
