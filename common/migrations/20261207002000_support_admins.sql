-- Support with several administrators: the inbox is paged by the conversation's last message and
-- searched by trigrams; a conversation handed back asks its customer for a rating.

-- Trigrams find a fragment anywhere in a name or a message ("refund" in "refunded", part of a
-- surname), in English and Romanian alike, without a text-search language to choose per message.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The newest message's id, the inbox's order and cursor; kept by a trigger, whoever stores messages.
ALTER TABLE conversations ADD COLUMN last_message_id bigint NOT NULL DEFAULT 0;
CREATE FUNCTION conversations_track_last_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET last_message_id = NEW.id
    WHERE customer_id = NEW.customer_id AND last_message_id < NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_messages_track_last AFTER INSERT ON chat_messages
    FOR EACH ROW EXECUTE FUNCTION conversations_track_last_message();
UPDATE conversations c SET last_message_id = m.last_id
FROM (SELECT customer_id, max(id) AS last_id FROM chat_messages GROUP BY customer_id) m
WHERE m.customer_id = c.customer_id;
CREATE INDEX conversations_inbox_idx ON conversations (last_message_id DESC, customer_id DESC);
CREATE INDEX conversations_admin_idx ON conversations (admin_id, last_message_id DESC, customer_id DESC);

CREATE INDEX chat_messages_body_trgm_idx ON chat_messages USING gin (body gin_trgm_ops);
CREATE INDEX users_username_trgm_idx ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_display_name_trgm_idx ON users USING gin (display_name gin_trgm_ops);

-- One per hand-back of a conversation an administrator held: the customer may rate it once.
CREATE TABLE support_ratings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id   uuid NOT NULL REFERENCES conversations (customer_id) ON DELETE CASCADE,
    -- Who held the conversation when it was handed back.
    admin_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    rating        smallint CONSTRAINT support_ratings_range CHECK (rating BETWEEN 1 AND 5),
    comment       text CONSTRAINT support_ratings_comment_length CHECK (char_length(comment) <= 1000),
    rated_at      timestamptz,
    CONSTRAINT support_ratings_rated CHECK ((rating IS NULL) = (rated_at IS NULL))
);
CREATE INDEX support_ratings_customer_idx ON support_ratings (customer_id, id DESC);
CREATE INDEX support_ratings_admin_idx ON support_ratings (admin_id) WHERE rating IS NOT NULL;
