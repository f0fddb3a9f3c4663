-- Dead letters: messages and deliveries the hub gave up on, kept with
-- everything an operator needs to act (list, show, replay, drop).

-- +goose Up
CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL,                -- poison | appeal | comment
    queue         text NOT NULL,                -- where the message was consumed from
    message_id    text NOT NULL DEFAULT '',
    body          bytea NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}',
    error         text NOT NULL,
    attempts      int  NOT NULL DEFAULT 1,
    appeal_number text NOT NULL DEFAULT '',
    comment_id    text NOT NULL DEFAULT '',
    fingerprint   text NOT NULL UNIQUE,         -- the same failure stored twice is one letter
    state         text NOT NULL DEFAULT 'dead', -- dead | replayed | dropped
    resolved_at   timestamptz
);
CREATE INDEX dead_letters_state ON dead_letters (state, id);

-- +goose Down
DROP TABLE dead_letters;
