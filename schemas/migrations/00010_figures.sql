-- The central monitors' figures (issue 10): per district and for the
-- country, over a period, without reading every appeal per view. What the
-- figures count is written by the statements the hub runs anyway (the
-- inbox's claim of an invalid request, the update that changes an
-- appeal's status), so intake and delivery pay no extra round trip; days
-- that are over are rolled up once into figures_rollup, and the day still
-- running is read through the indexes below.

-- +goose Up
-- An invalid request's district (when the hub serves it) and the first
-- field refused; invalid comments have outcome 'comment_invalid'.
ALTER TABLE inbox ADD COLUMN district text NOT NULL DEFAULT '',
    ADD COLUMN refused_field text NOT NULL DEFAULT '';
CREATE INDEX inbox_invalid ON inbox (received_at) WHERE outcome = 'invalid';

-- filed_district: where the appeal was registered; district moves with a
-- forwarding, this never does. The milestones (routers.Milestones) are
-- the hub's clock when it recorded each step; answer_days and
-- answered_on_time are counted by the hub on its holiday calendar when it
-- records the answer.
ALTER TABLE appeals ADD COLUMN filed_district text NOT NULL DEFAULT '',
    ADD COLUMN delivered_at     timestamptz,
    ADD COLUMN in_progress_at   timestamptz,
    ADD COLUMN answered_at      timestamptz,
    ADD COLUMN answer_days      integer,      -- NULL: answered before this migration (the calendar is the hub's)
    ADD COLUMN answered_on_time boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_at        timestamptz;

-- Appeals written before: the district of the number, and the steps at
-- the times their events carry (the hub wrote each with FormatTime; the
-- pattern only keeps a stray value from failing the start).
UPDATE appeals SET filed_district = regexp_replace(number, '-[0-9]{4}-[0-9]+$', '');
UPDATE appeals a SET delivered_at = h.delivered, in_progress_at = h.in_progress, answered_at = h.answered, closed_at = h.closed,
    answered_on_time = coalesce((h.answered AT TIME ZONE 'Asia/Baku')::date <= a.deadline, false)
FROM (
    SELECT appeal_number,
        min(at) FILTER (WHERE status = 'delivered') AS delivered,
        min(at) FILTER (WHERE status = 'in_progress') AS in_progress,
        min(at) FILTER (WHERE status IN ('answered', 'rejected')) AS answered,
        min(at) FILTER (WHERE status = 'closed') AS closed
    FROM (
        SELECT appeal_number, status, CASE
            WHEN event->>'at' ~ '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$'
            THEN (event->>'at')::timestamptz END AS at
        FROM status_history
    ) e
    GROUP BY appeal_number
) h
WHERE h.appeal_number = a.number;
-- Forwarded to a body off the hub: that was the answer.
UPDATE appeals SET answered_at = forwarded_at, answered_on_time = (forwarded_at AT TIME ZONE 'Asia/Baku')::date <= deadline
WHERE status = 'forwarded' AND forwarded_to <> district AND answered_at IS NULL AND forwarded_at IS NOT NULL;

-- The day still running: what registered, was answered or refused since
-- midnight, by time. The repeat of an appeal (same citizen, district and
-- service within a year before) is looked up on appeals_citizen (fin,
-- registered_at): a citizen has few appeals a year.
CREATE INDEX appeals_registered ON appeals (registered_at);
CREATE INDEX appeals_answered ON appeals (answered_at) WHERE answered_at IS NOT NULL;

-- Extensions and forwardings are dated by the district, which may report
-- days late, so they are never rolled up: they are counted over the whole
-- period from these, by time, each entry holding what is counted (an
-- index-only scan of the few appeals concerned).
DROP INDEX appeals_extended;
DROP INDEX appeals_forwarded;
CREATE INDEX appeals_extended ON appeals (extended_at, district) WHERE extended;
CREATE INDEX appeals_forwarded ON appeals (forwarded_at, forwarded_by, forwarded_late) WHERE forwarded_at IS NOT NULL;

-- Open, due soon, overdue and pending deliveries, as of now, for every
-- view: the open appeals' index (00004) holds all they read, so counting
-- them is an index-only scan (365 ms → 14 ms for 50,000 open of 1,000,000,
-- the heap's pages no longer read).
DROP INDEX appeals_open;
CREATE INDEX appeals_open ON appeals (district, deadline) INCLUDE (status, forwarded_to, delivery_state)
    WHERE status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered';

-- The roll-up: one row per span (a Baku day, or a month of them), district,
-- metric and key, written once when the span is over (and a grace period
-- for commits in flight) by whichever hub asks first. figures_spans
-- records each span rolled up, claimed with ON CONFLICT DO NOTHING in the
-- same transaction as its rows, so hubs racing for a span write it once.
CREATE TABLE figures_spans (
    span      text NOT NULL,           -- day | month
    first_day date NOT NULL,
    rolled_at timestamptz NOT NULL,    -- the hub's clock
    PRIMARY KEY (span, first_day)
);
CREATE TABLE figures_rollup (
    span      text NOT NULL,
    first_day date NOT NULL,
    district  text NOT NULL,
    metric    text NOT NULL,           -- registered, type, service, repeat, invalid, answer_days, on_time
    key       text NOT NULL,           -- the type, service, field or days; '' for a plain count
    n         integer NOT NULL,
    PRIMARY KEY (span, first_day, district, metric, key)
);

-- +goose Down
DROP INDEX appeals_open;
CREATE INDEX appeals_open ON appeals (district, deadline)
    WHERE status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered';
DROP TABLE figures_rollup;
DROP TABLE figures_spans;
DROP INDEX appeals_forwarded;
DROP INDEX appeals_extended;
CREATE INDEX appeals_forwarded ON appeals (forwarded_by, forwarded_at) WHERE forwarded_at IS NOT NULL;
CREATE INDEX appeals_extended ON appeals (district, extended_at) WHERE extended;
DROP INDEX appeals_answered;
DROP INDEX appeals_registered;
ALTER TABLE appeals DROP COLUMN filed_district, DROP COLUMN delivered_at, DROP COLUMN in_progress_at,
    DROP COLUMN answered_at, DROP COLUMN answer_days, DROP COLUMN answered_on_time, DROP COLUMN closed_at;
DROP INDEX inbox_invalid;
ALTER TABLE inbox DROP COLUMN district, DROP COLUMN refused_field;
