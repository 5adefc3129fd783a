-- The audit log: one hash chain per org ('org:{id}') and per user ('user:{id}').
-- No foreign keys: an org's log outlives the org (it ends with `org.delete`), and a user's
-- entries keep naming an actor that may be gone.
CREATE TABLE audit_log (
    id            TEXT    NOT NULL PRIMARY KEY,
    chain         TEXT    NOT NULL,
    -- Position in the chain, 1, 2, 3, … without gaps: newest first is `seq DESC`.
    seq           BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    org_id        TEXT,
    org_handle    TEXT,
    actor_id      TEXT,
    actor_handle  TEXT,
    actor_ip      TEXT,
    user_agent    TEXT,
    action        TEXT    NOT NULL,
    target_type   TEXT,
    target_id     TEXT,
    target_handle TEXT,
    -- JSON: the before/after of the changed fields, never a secret.
    data          TEXT    NOT NULL,
    request_id    TEXT,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL,
    CONSTRAINT audit_log_chain_seq_key UNIQUE (chain, seq)
);
-- Each filter walks its own index newest first.
CREATE INDEX audit_log_action_idx ON audit_log (chain, action, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (chain, actor_handle, seq);
CREATE INDEX audit_log_target_handle_idx ON audit_log (chain, target_handle, seq);
CREATE INDEX audit_log_target_id_idx ON audit_log (chain, target_id, seq);
-- Time ranges within a log (since/until, the daily `audit_events` count).
CREATE INDEX audit_log_created_idx ON audit_log (chain, created_at);

-- One row per chain: its head (locked while appending, so writers cannot fork it) and
-- the checkpoint left by retention purges, where verification starts.
CREATE TABLE audit_chains (
    chain           TEXT    NOT NULL PRIMARY KEY,
    head_seq        BIGINT  NOT NULL,
    head_hash       TEXT    NOT NULL,
    checkpoint_seq  BIGINT  NOT NULL,
    checkpoint_hash TEXT    NOT NULL
);
