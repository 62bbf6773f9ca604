-- Accounts, devices, and the state behind sessions and login throttling.

CREATE TYPE user_role AS ENUM ('admin', 'client');

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    -- Stored lower-case; the format check keeps it usable in URLs and chat mentions.
    username       text NOT NULL
                   CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,31}$'),
    display_name   text NOT NULL
                   CONSTRAINT users_display_name_length CHECK (char_length(btrim(display_name)) BETWEEN 1 AND 100),
    password_hash  text NOT NULL,
    role           user_role NOT NULL DEFAULT 'client',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_unique UNIQUE (username)
);

CREATE TABLE devices (
    id              uuid PRIMARY KEY,
    name            text NOT NULL
                    CONSTRAINT devices_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    description     text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    max_hourly_kwh  double precision NOT NULL
                    CONSTRAINT devices_max_hourly_kwh_positive CHECK (max_hourly_kwh > 0 AND max_hourly_kwh < 'Infinity'),
    owner_id        uuid
                    CONSTRAINT devices_owner_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_owner_id_idx ON devices (owner_id);

-- Refresh tokens are stored as SHA-256 digests. Each use rotates the token within its family;
-- presenting an already-rotated token revokes the whole family (it was probably stolen).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL CONSTRAINT refresh_tokens_hash_unique UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Failed logins per username (whether or not such a user exists, so throttling reveals nothing).
CREATE TABLE login_throttle (
    username         text PRIMARY KEY,
    failures         integer NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    locked_until     timestamptz
);
