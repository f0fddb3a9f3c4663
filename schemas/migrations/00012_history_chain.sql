-- Each appeal's history becomes a hash chain (issue 11): every row's hash
-- is routers.ChainHash over a domain tag, the appeal number and sequence,
-- the previous row's hash and the event in RFC 8785 canonical JSON. The
-- hub writes it with the row; `korpu audit verify` re-walks the chains.
--
-- Rows written before this migration cannot be chained here: PostgreSQL
-- prints jsonb in its own form, not RFC 8785's. They keep a NULL hash until
-- the hub seals them, in sequence order, right after migrating
-- (postgres.Migrate → sealHistory), before it handles any traffic.

-- +goose Up
ALTER TABLE status_history ADD COLUMN hash bytea;
-- NOT VALID: every new row must carry a 32-byte hash (so an event on top
-- of a missing or unsealed predecessor fails instead of breaking the chain
-- silently); the rows that predate the chain are exempt until sealed.
ALTER TABLE status_history ADD CONSTRAINT status_history_hash_sealed
    CHECK (hash IS NOT NULL AND octet_length(hash) = 32) NOT VALID;
-- What sealing has left to do; empty once it ran.
CREATE INDEX status_history_unsealed ON status_history (appeal_number, sequence) WHERE hash IS NULL;

-- The history is append-only. The one change allowed is sealing: setting
-- a NULL hash once, with nothing else changed. A superuser or the owner can still
-- disable the trigger (or set session_replication_role = replica); the
-- chain is what catches that.
-- +goose StatementBegin
CREATE FUNCTION status_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL AND to_jsonb(NEW) - 'hash' = to_jsonb(OLD) - 'hash' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'status_history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER status_history_append_only BEFORE UPDATE OR DELETE ON status_history
    FOR EACH ROW EXECUTE FUNCTION status_history_append_only();
CREATE TRIGGER status_history_no_truncate BEFORE TRUNCATE ON status_history
    FOR EACH STATEMENT EXECUTE FUNCTION status_history_append_only();

-- The hub's own role and everyone else lose the right to rewrite rows;
-- sealing keeps the right to fill the hash column only. A superuser
-- bypasses privileges and an owner may grant them back, hence the trigger
-- as well, and a hub role that owns nothing (README).
REVOKE UPDATE, DELETE, TRUNCATE ON status_history FROM PUBLIC, CURRENT_USER;
GRANT UPDATE (hash) ON status_history TO CURRENT_USER;

-- +goose Down
REVOKE UPDATE (hash) ON status_history FROM CURRENT_USER;
GRANT UPDATE, DELETE, TRUNCATE ON status_history TO CURRENT_USER;
DROP TRIGGER status_history_no_truncate ON status_history;
DROP TRIGGER status_history_append_only ON status_history;
DROP FUNCTION status_history_append_only();
DROP INDEX status_history_unsealed;
ALTER TABLE status_history DROP CONSTRAINT status_history_hash_sealed, DROP COLUMN hash;
