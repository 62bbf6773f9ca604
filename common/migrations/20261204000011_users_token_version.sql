-- Bumped whenever what a user's access tokens say stops being true (role changed, password
-- reset); access tokens carry the version they were issued at and older ones are refused.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
