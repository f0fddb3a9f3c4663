-- The statutory clock's watch: when an open appeal crosses into due soon
-- (at most 3 working days left) or overdue, every hub's sweep tries to
-- claim the crossing, and the one conditional UPDATE that wins commits the
-- oversight event to the outbox with it. An appeal remembers the last
-- crossing claimed and the deadline it was for, so a new deadline (an
-- extension) arms it again.

-- +goose Up
ALTER TABLE appeals ADD COLUMN oversight_level smallint NOT NULL DEFAULT 0, -- 0 none, 1 due soon, 2 overdue
    ADD COLUMN oversight_deadline date;                                     -- the deadline oversight_level was claimed for

-- The sweep reads only open appeals, by the level claimed for their current
-- deadline: level 0 up to the due-soon date, level 1 before today. Those
-- two ranges hold only appeals to claim; answered and closed appeals, and
-- appeals already claimed overdue, are never read, however many there are.
CREATE INDEX appeals_oversight ON appeals
    ((CASE WHEN oversight_deadline = deadline THEN oversight_level ELSE 0 END), deadline)
    WHERE status IN ('registered', 'delivered', 'in_progress');

-- +goose Down
DROP INDEX appeals_oversight;
ALTER TABLE appeals DROP COLUMN oversight_level, DROP COLUMN oversight_deadline;
