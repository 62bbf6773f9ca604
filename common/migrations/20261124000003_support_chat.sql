-- Support chat: one conversation per customer, in bot or human mode, and every message of it.

CREATE TYPE conversation_mode AS ENUM ('bot', 'human');
CREATE TYPE chat_source AS ENUM ('customer', 'rule', 'ai', 'admin', 'system');

CREATE TABLE conversations (
    customer_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    mode                 conversation_mode NOT NULL DEFAULT 'bot',
    -- The administrator who took the conversation over, while in human mode.
    admin_id             uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Read receipts: the last message id each side has seen.
    customer_read_up_to  bigint NOT NULL DEFAULT 0,
    admin_read_up_to     bigint NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chat_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id      uuid NOT NULL REFERENCES conversations (customer_id) ON DELETE CASCADE,
    source           chat_source NOT NULL,
    -- The person who wrote it (customer or administrator); empty for rule, AI and system answers.
    sender_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The sender's own id for the message, so a resend is recognised; answers use `reply:<id>`.
    client_id        text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_messages_once UNIQUE (customer_id, client_id)
);
CREATE INDEX chat_messages_conversation_idx ON chat_messages (customer_id, id);
