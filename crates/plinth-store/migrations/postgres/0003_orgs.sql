-- Organizations, memberships, workspaces and workspace members.
-- Org handles live in the shared `handles` table (owner_kind 'org') as well, written in the
-- same transaction, so a user and an org can never hold the same handle.

CREATE TABLE orgs (
    id                  TEXT    NOT NULL PRIMARY KEY,
    handle              TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    avatar_url          TEXT,
    -- Tokens issued at or before this instant (unix µs) are refused on this org's resources.
    token_min_issued_at BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    -- Set by a (later) soft delete; the row stays restorable during the grace period.
    deleted_at          BIGINT
);
-- Only live orgs must have distinct handles: a deleted org keeps its row (and its handle
-- reservation in `handles`) until it is purged.
CREATE UNIQUE INDEX orgs_handle_live_key ON orgs (handle) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
    -- Orders lists (UUIDv7), independent of the composite key.
    id          TEXT    NOT NULL,
    org_id      TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
    status      TEXT    NOT NULL CHECK (status IN ('invited', 'active')),
    invited_by  TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (org_id, user_id),
    CONSTRAINT memberships_id_key UNIQUE (id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, status);

CREATE TABLE workspaces (
    id            TEXT    NOT NULL PRIMARY KEY,
    org_id        TEXT    NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    handle        TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CONSTRAINT workspaces_org_handle_key UNIQUE (org_id, handle)
);

CREATE TABLE workspace_members (
    id            TEXT    NOT NULL,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('reader', 'operator', 'owner')),
    created_at    BIGINT  NOT NULL,
    CONSTRAINT workspace_members_pkey PRIMARY KEY (workspace_id, user_id),
    CONSTRAINT workspace_members_id_key UNIQUE (id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);
