-- Single-use tickets that open a WebSocket (`POST /api/ws-ticket`, then `/ws?ticket=`), so that
-- the access token never travels in a URL. Only the SHA-256 digest of a ticket is stored; a
-- ticket is deleted when it is used, and expired ones are swept. The role and token version are
-- those of the access token the ticket was issued for, so a connection opened with it is checked
-- against the account as that token would be.
CREATE TABLE ws_tickets (
    ticket_hash    bytea PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           user_role NOT NULL,
    display_name   text NOT NULL,
    token_version  integer NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX ws_tickets_expires_idx ON ws_tickets (expires_at);
