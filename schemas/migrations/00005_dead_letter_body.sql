-- A poisoned message keeps at most the start of its body (anyone who can
-- publish can poison), so each letter records the whole body's size and
-- SHA-256: what an operator needs to recognise it, and what tells a
-- truncated letter, which cannot be replayed, from a whole one.

-- +goose Up
ALTER TABLE dead_letters ADD COLUMN body_size bigint, ADD COLUMN body_sha256 text;
UPDATE dead_letters SET body_size = length(body), body_sha256 = encode(sha256(body), 'hex');
ALTER TABLE dead_letters ALTER COLUMN body_size SET NOT NULL, ALTER COLUMN body_sha256 SET NOT NULL;

-- +goose Down
ALTER TABLE dead_letters DROP COLUMN body_size, DROP COLUMN body_sha256;
