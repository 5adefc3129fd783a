-- Where each token was issued, for the user's list of console and CLI sessions: the
-- client's address, what kind of client it was ('console', 'api', 'cli') and its
-- User-Agent. NULL for tokens issued before this migration (shown as unknown).
ALTER TABLE tokens ADD COLUMN created_ip TEXT;
ALTER TABLE tokens ADD COLUMN client TEXT;
ALTER TABLE tokens ADD COLUMN user_agent TEXT;
-- Who asked for a CLI login code: shown on /device before the person approves it.
ALTER TABLE device_grants ADD COLUMN requested_ip TEXT;
ALTER TABLE device_grants ADD COLUMN requested_user_agent TEXT;
