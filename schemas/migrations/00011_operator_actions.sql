-- The operators' record: who replayed or dropped which dead letter (and so
-- which appeal), when by the hub's clock, by which way (api, cli,
-- dashboard) and with what outcome. An action that changes the hub's work
-- is written in the commit that makes the change.
--
-- Append-only for the hub: a trigger refuses UPDATE, DELETE and TRUNCATE,
-- and they are revoked, so a hub role that neither owns the table nor is a
-- superuser cannot rewrite what operators did (an owner or a superuser can
-- disable the trigger: serve warns when it runs as one, postgres.Rewriter).

-- +goose Up
CREATE TABLE operator_actions (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor          text NOT NULL,             -- the party's name in the access list, or korpu dlq's --as
    role           text NOT NULL,             -- its role: operator
    channel        text NOT NULL,             -- api | cli | dashboard
    action         text NOT NULL,             -- dead_letter.replay | dead_letter.drop
    dead_letter_id bigint NOT NULL,           -- no foreign key: a refused action may name a letter that never was
    appeal_number  text NOT NULL DEFAULT '',  -- the letter's appeal, if any
    outcome        text NOT NULL              -- done | not_open | not_found | truncated
);

-- refuse_rewrite is the trigger of every append-only table (this one and
-- the transparency log's, 00013): no role rewrites or removes a row. A
-- superuser bypasses privileges and an owner can disable triggers; what the record
-- is worth then rests on the chain, the log and the monitors' checkpoints.
-- +goose StatementBegin
CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER operator_actions_append_only BEFORE UPDATE OR DELETE ON operator_actions
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER operator_actions_no_truncate BEFORE TRUNCATE ON operator_actions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
REVOKE UPDATE, DELETE, TRUNCATE ON operator_actions FROM PUBLIC, CURRENT_USER;

-- +goose Down
GRANT UPDATE, DELETE, TRUNCATE ON operator_actions TO CURRENT_USER;
DROP TABLE operator_actions;
DROP FUNCTION refuse_rewrite();
