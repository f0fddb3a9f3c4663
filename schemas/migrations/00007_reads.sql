-- The portal reads a citizen's history and an appeal's details at national
-- scale: the appeal's type and submission time become columns (they were
-- only inside the request), and indexes serve each read as an index scan.

-- +goose Up
ALTER TABLE appeals ADD COLUMN appeal_type text NOT NULL DEFAULT '',
    ADD COLUMN submitted_at timestamptz;         -- NULL: not known (see the backfill)

-- Intake validated submitted_at as Go's RFC 3339, which also takes what
-- timestamptz refuses (year 0000, offsets beyond ±15:59): such a value stays
-- NULL rather than fail the migration.
UPDATE appeals SET
    appeal_type = coalesce(request->'appeal'->>'type', ''),
    submitted_at = CASE
        WHEN request->>'submitted_at' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$'
         AND left(request->>'submitted_at', 4) <> '0000'
        THEN (request->>'submitted_at')::timestamptz
    END;

-- A citizen's history, newest first, paged by (registered_at, number).
CREATE INDEX appeals_citizen ON appeals (fin, registered_at DESC, number DESC);
-- An appeal's comments, oldest first.
CREATE INDEX comments_appeal ON comments (appeal_number, submitted_at);

-- +goose Down
DROP INDEX comments_appeal;
DROP INDEX appeals_citizen;
ALTER TABLE appeals DROP COLUMN appeal_type, DROP COLUMN submitted_at;
