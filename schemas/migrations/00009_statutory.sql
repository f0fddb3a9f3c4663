-- The law's clock beyond the first deadline (contract §4, v1.1): a
-- district may extend an appeal's deadline once (the deadline column then
-- holds the extended one), and forwards an appeal that is not its business
-- to the competent body. Forwarded to another district on the hub, the
-- appeal's district becomes that one; forwarded_by keeps who forwarded.

-- +goose Up
ALTER TABLE appeals
    ADD COLUMN extended         boolean NOT NULL DEFAULT false,
    ADD COLUMN extended_at      timestamptz,                  -- by the district's report
    ADD COLUMN extension_reason text NOT NULL DEFAULT '',
    -- The latest forwarding: to a district code on the hub or another
    -- body's name ('' from ESD, which cannot name it), by which district,
    -- when, and whether later than 3 working days after registration.
    ADD COLUMN forwarded_to     text NOT NULL DEFAULT '',
    ADD COLUMN forwarded_by     text NOT NULL DEFAULT '',
    ADD COLUMN forwarded_at     timestamptz,
    ADD COLUMN forwarded_late   boolean NOT NULL DEFAULT false,
    -- Districts that forwarded it to another district on the hub, in order.
    ADD COLUMN forwarders       text[] NOT NULL DEFAULT '{}';

-- The monitors count forwardings and extensions per district and period:
-- partial indexes keep that to the few appeals concerned.
CREATE INDEX appeals_forwarded ON appeals (forwarded_by, forwarded_at) WHERE forwarded_at IS NOT NULL;
CREATE INDEX appeals_extended ON appeals (district, extended_at) WHERE extended;

-- +goose Down
DROP INDEX appeals_extended;
DROP INDEX appeals_forwarded;
ALTER TABLE appeals DROP COLUMN extended, DROP COLUMN extended_at, DROP COLUMN extension_reason,
    DROP COLUMN forwarded_to, DROP COLUMN forwarded_by, DROP COLUMN forwarded_at, DROP COLUMN forwarded_late,
    DROP COLUMN forwarders;
