-- What each write transaction invalidates in other replicas' memory (DESIGN.md §5): a
-- row written in the same transaction as the change, so it exists exactly when the
-- change does. Replicas read the rows after the last id they applied (a NOTIFY sent after
-- commit, outside the transaction, only wakes them); old rows are pruned by the servers.
-- Ids come from a sequence, so a transaction may commit a lower id after a higher one is
-- visible: readers track such gaps for a while (see the store's invalidation feed).
CREATE TABLE invalidation_log (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The process that wrote it, which applied it itself right after its commit.
    origin     TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
