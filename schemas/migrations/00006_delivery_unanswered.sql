-- A Submit that went out and got no answer (it timed out) leaves it open
-- whether the district holds the appeal: until its delivery settles, the
-- district's status callbacks on it are accepted.

-- +goose Up
ALTER TABLE appeals ADD COLUMN delivery_unanswered boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE appeals DROP COLUMN delivery_unanswered;
