-- An instance administrator can disable an account (`plinth admin user disable`): while
-- this is set, its tokens are refused and it cannot log in. Expand only: NULL for every
-- existing user, so an older build that ignores the column still reads the table.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
