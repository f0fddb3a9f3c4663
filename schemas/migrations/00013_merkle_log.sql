-- The transparency log (issue 11, routers/tlog): every history event's
-- chain hash (status_history.hash, migration 00012) is a leaf of one
-- append-only RFC 6962 Merkle tree, and the tree is signed as checkpoints.
--
-- The write path pays one small INSERT per event: a trigger queues the
-- event in log_pending. A sequencer (one at a time across every hub, under
-- an advisory lock) moves pending events into log_leaves in pending order,
-- batch after batch, and keeps each completed perfect subtree's root in
-- log_nodes, so appending needs only the compact range and a proof only
-- the nodes it names.

-- +goose Up
CREATE TABLE log_pending (
    id            bigserial PRIMARY KEY,
    appeal_number text NOT NULL,
    sequence      int  NOT NULL
);

CREATE TABLE log_leaves (
    leaf_index    bigint PRIMARY KEY CHECK (leaf_index >= 0),
    appeal_number text   NOT NULL,
    sequence      int    NOT NULL,
    leaf_hash     bytea  NOT NULL CHECK (octet_length(leaf_hash) = 32), -- RFC 6962 leaf hash of the event's chain hash
    UNIQUE (appeal_number, sequence)
);

-- The roots of completed perfect subtrees above the leaves (level ≥ 1);
-- level 0 is log_leaves.
CREATE TABLE log_nodes (
    level      smallint NOT NULL CHECK (level > 0),
    node_index bigint   NOT NULL,
    hash       bytea    NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (level, node_index)
);

CREATE TABLE log_checkpoints (
    size       bigint PRIMARY KEY,
    root       bytea  NOT NULL,
    note       text   NOT NULL,   -- the signed note as served and published
    created_at timestamptz NOT NULL
);
CREATE INDEX log_checkpoints_created ON log_checkpoints (created_at);

-- The events written before the log existed are queued too, in their
-- history's order; rows still unsealed (hash NULL) wait in the queue.
INSERT INTO log_pending (appeal_number, sequence)
    SELECT appeal_number, sequence FROM status_history ORDER BY appeal_number, sequence;

-- +goose StatementBegin
CREATE FUNCTION log_queue_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_pending (appeal_number, sequence) VALUES (NEW.appeal_number, NEW.sequence);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER log_queue_event AFTER INSERT ON status_history
    FOR EACH ROW EXECUTE FUNCTION log_queue_event();

-- The log is append-only: no role rewrites or removes a leaf, a node or a
-- checkpoint. A superuser bypasses privileges (and an owner can disable triggers):
-- `korpu audit verify` and the monitors' copies of checkpoints catch that.
-- (refuse_rewrite: 00011.)
CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
REVOKE UPDATE, DELETE, TRUNCATE ON log_leaves, log_nodes, log_checkpoints FROM PUBLIC, CURRENT_USER;
-- The queue is work, its rows deleted by the sequencer once they are
-- leaves; none is rewritten (which could make a leaf of another event or
-- stop the log), nor all dropped at once.
REVOKE UPDATE, TRUNCATE ON log_pending FROM PUBLIC, CURRENT_USER;

-- +goose Down
GRANT UPDATE, DELETE, TRUNCATE ON log_leaves, log_nodes, log_checkpoints TO CURRENT_USER;
GRANT UPDATE, TRUNCATE ON log_pending TO CURRENT_USER;
DROP TRIGGER log_queue_event ON status_history;
DROP FUNCTION log_queue_event();
DROP TABLE log_checkpoints, log_nodes, log_leaves, log_pending;
