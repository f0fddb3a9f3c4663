-- The ledger of appeals: every appeal, its history as the portal saw it, the
-- idempotency inbox, comments, reception bookings and the transactional outbox.

-- +goose Up
CREATE TABLE inbox (
    request_id  text PRIMARY KEY,            -- the portal's id: one effect per request
    outcome     text NOT NULL,               -- registered | invalid | comment
    received_at timestamptz NOT NULL DEFAULT now()
);

-- One row per district and year; its row lock makes numbers gap-free across hub processes.
CREATE TABLE appeal_counters (
    district text NOT NULL,
    year     int  NOT NULL,
    last_seq int  NOT NULL,
    PRIMARY KEY (district, year)
);

CREATE TABLE appeals (
    number            text PRIMARY KEY,      -- <district>-<year>-<6 digits>
    request_id        text NOT NULL UNIQUE,
    district          text NOT NULL,
    service           text NOT NULL,
    fin               text NOT NULL,
    status            text NOT NULL,
    sequence          int  NOT NULL,         -- of the last event sent to the portal
    registered_at     timestamptz NOT NULL,
    deadline          date NOT NULL,
    request           jsonb NOT NULL,
    person            jsonb,                 -- registry record; NULL until enriched
    delivery_state    text NOT NULL,         -- pending | delivered | failed
    delivery_attempts int  NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,           -- NULL: a job is queued or none is due
    last_error        text NOT NULL DEFAULT '',
    district_ref      text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appeals_due ON appeals (next_attempt_at)
    WHERE delivery_state = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX appeals_district_status ON appeals (district, status);

CREATE TABLE status_history (
    appeal_number text NOT NULL REFERENCES appeals (number),
    sequence      int  NOT NULL,
    status        text NOT NULL,
    event         jsonb NOT NULL,            -- the event exactly as published
    PRIMARY KEY (appeal_number, sequence)
);

CREATE TABLE comments (
    id                text PRIMARY KEY,
    appeal_number     text NOT NULL REFERENCES appeals (number),
    text              text NOT NULL,
    submitted_at      timestamptz NOT NULL,
    delivery_state    text NOT NULL,
    delivery_attempts int  NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    last_error        text NOT NULL DEFAULT ''
);
CREATE INDEX comments_due ON comments (next_attempt_at)
    WHERE delivery_state = 'pending' AND next_attempt_at IS NOT NULL;

CREATE TABLE reception_bookings (
    official_id text NOT NULL,
    day         date NOT NULL,
    booked      int  NOT NULL,
    PRIMARY KEY (official_id, day)
);

-- Messages committed with a state change, published in id order by one relay.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    topic      text  NOT NULL,
    uuid       text  NOT NULL,
    payload    bytea NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE outbox;
DROP TABLE reception_bookings;
DROP TABLE comments;
DROP TABLE status_history;
DROP TABLE appeals;
DROP TABLE appeal_counters;
DROP TABLE inbox;
