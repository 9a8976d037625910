-- Issue 12: each user's language. language_code is what their Telegram app sends (kept so a
-- job writing to them, a summary or a nudge, knows it); language is the one they chose (NULL:
-- follow language_code). Both nullable: nothing to fill in for existing users.
ALTER TABLE users ADD COLUMN IF NOT EXISTS language_code text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS language text;
