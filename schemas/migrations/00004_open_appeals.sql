-- The monitors' backlog per district counts open appeals and unsettled
-- deliveries at every scrape: a partial index keeps that to the few rows
-- that are open, however many appeals are closed.

-- +goose Up
CREATE INDEX appeals_open ON appeals (district, deadline)
    WHERE status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered';

-- +goose Down
DROP INDEX appeals_open;
