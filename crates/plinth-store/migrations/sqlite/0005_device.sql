-- CLI logins in progress: the OAuth 2.0 device authorization grant (RFC 8628). A grant
-- lives for minutes: it is deleted when its token is issued, and the purge task removes
-- the ones that expired.
CREATE TABLE device_grants (
    id               TEXT   NOT NULL PRIMARY KEY,
    -- SHA-256 of the CLI's device_code; the code itself is never stored.
    device_code_hash TEXT   NOT NULL,
    -- Eight letters, no dash.
    user_code        TEXT   NOT NULL,
    client_id        TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    -- Who approved or denied it.
    user_id          TEXT   REFERENCES users (id) ON DELETE CASCADE,
    -- Seconds the CLI must wait between polls; grows by 5 on each slow_down.
    interval_secs    BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_polled_at   BIGINT,
    decided_at       BIGINT,
    CONSTRAINT device_grants_device_code_key UNIQUE (device_code_hash),
    CONSTRAINT device_grants_user_code_key UNIQUE (user_code)
);
CREATE INDEX device_grants_expires_idx ON device_grants (expires_at);
