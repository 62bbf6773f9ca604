-- Failed logins are counted per key: a username from one address (`pair:<address>|<username>`),
-- an address over every username (`addr:<address>`) and a username over every address
-- (`user:<username>`). Rows older than the failure window are deleted by the web service.
ALTER TABLE login_throttle RENAME COLUMN username TO key;
DELETE FROM login_throttle;
CREATE INDEX login_throttle_last_failure_idx ON login_throttle (last_failure_at);
