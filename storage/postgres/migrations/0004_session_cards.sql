-- Where the teacher's live session card was posted, so it can be marked final once the
-- summary is sent (after the session has left Redis).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS card_chat_id bigint;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS card_message_id bigint;
