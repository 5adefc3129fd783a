-- What each write transaction invalidates in other replicas' memory (DESIGN.md §5): a
-- row written in the same transaction as the change, so it exists exactly when the
-- change does. Replicas (and a server beside `plinth admin` on one SQLite file) read the
-- rows after the last id they applied; old rows are pruned by the running servers.
-- AUTOINCREMENT: an id is never handed out twice, even after the newest rows are pruned.
CREATE TABLE invalidation_log (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    -- The process that wrote it, which applied it itself right after its commit.
    origin     TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
