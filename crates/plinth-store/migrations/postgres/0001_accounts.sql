-- Users, the shared handle namespace, and tokens.
-- Times are unix microseconds (BIGINT) and ids UUIDv7 text, identical on both backends.

CREATE TABLE handles (
    handle         TEXT    NOT NULL,
    owner_kind     TEXT    NOT NULL CHECK (owner_kind IN ('user', 'org')),
    owner_id       TEXT    NOT NULL,
    -- NULL while the handle is in use; set when it is only held for a grace period.
    reserved_until BIGINT,
    CONSTRAINT handles_pkey PRIMARY KEY (handle)
);
CREATE INDEX handles_owner_idx ON handles (owner_id);

CREATE TABLE users (
    id                  TEXT    NOT NULL PRIMARY KEY,
    handle              TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    avatar_url          TEXT,
    password_hash       TEXT    NOT NULL,
    token_min_issued_at BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    CONSTRAINT users_handle_key UNIQUE (handle),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('temporary', 'user')),
    token_hash   TEXT    NOT NULL,
    title        TEXT,
    description  TEXT,
    status       TEXT    NOT NULL CHECK (status IN ('active', 'inactive')),
    last4        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    -- Set by logout or delete; the row stays so the token is answered as revoked.
    revoked_at   BIGINT,
    CONSTRAINT tokens_hash_key UNIQUE (token_hash)
);
CREATE INDEX tokens_user_idx ON tokens (user_id, kind, id);
