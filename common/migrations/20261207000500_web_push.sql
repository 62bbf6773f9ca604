-- Web Push: alerts reach customers whose dashboard is closed.

-- The server's VAPID key pair (RFC 8292): its P-256 private key, base64url, written by `ems seed`
-- (generated, or taken from the secret EMS_VAPID_PRIVATE_KEY / EMS_VAPID_PRIVATE_KEY_FILE). One row.
CREATE TABLE web_push_keys (
    only_one    boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    private_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A browser's push subscription: where to send (its push service's endpoint) and the keys that
-- encrypt what is sent (RFC 8291). An endpoint belongs to the user who subscribed it last.
CREATE TABLE push_subscriptions (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   text NOT NULL UNIQUE,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);

-- The outbox: an alert is pushed once, then marked. Alerts stored before Web Push existed count
-- as pushed (the column is added with `true`, then new rows default to `false`).
ALTER TABLE alerts ADD COLUMN pushed boolean NOT NULL DEFAULT true;
ALTER TABLE alerts ALTER COLUMN pushed SET DEFAULT false;
CREATE INDEX alerts_to_push_idx ON alerts (id) WHERE NOT pushed;
