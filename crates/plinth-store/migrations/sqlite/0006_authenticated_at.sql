-- Every token carries the instant its holder last proved who they are (a password
-- login). Resets compare against it, so a session a reset refuses cannot mint a user
-- token or approve a CLI login that the reset would accept. Tokens issued before this
-- migration take their issue time, which is what resets compared until now.
ALTER TABLE tokens ADD COLUMN authenticated_at BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET authenticated_at = created_at;
-- The approver's authenticated_at, inherited by the token the approved CLI login gets.
ALTER TABLE device_grants ADD COLUMN authenticated_at BIGINT;
