-- Outbound delivery that never stalls: every outbox row carries its own retry schedule
-- (attempts, next attempt) and ends in a final state (`failed_at`, with why) instead of being
-- retried at the head of the queue forever. Users the bot cannot reach (they blocked it, never
-- started it, or were deactivated) are remembered so nothing more is queued to them.
ALTER TABLE summary_outbox ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
ALTER TABLE summary_outbox ADD COLUMN IF NOT EXISTS failed_at timestamptz;
ALTER TABLE summary_outbox ADD COLUMN IF NOT EXISTS failure text;
ALTER TABLE summary_outbox ADD COLUMN IF NOT EXISTS last_error text;

ALTER TABLE nudge_outbox ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
ALTER TABLE nudge_outbox ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
ALTER TABLE nudge_outbox ADD COLUMN IF NOT EXISTS failed_at timestamptz;
ALTER TABLE nudge_outbox ADD COLUMN IF NOT EXISTS failure text;
ALTER TABLE nudge_outbox ADD COLUMN IF NOT EXISTS last_error text;

-- The claims read only rows still in play, in the order they become due.
CREATE INDEX IF NOT EXISTS summary_outbox_due_idx
    ON summary_outbox ((coalesce(next_attempt_at, created_at)))
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS nudge_outbox_due_idx
    ON nudge_outbox ((coalesce(next_attempt_at, created_at)))
    WHERE sent_at IS NULL AND failed_at IS NULL;
-- A teacher's summaries that could not be delivered, shown when they next write.
CREATE INDEX IF NOT EXISTS summary_outbox_failed_idx ON summary_outbox (session_id)
    WHERE sent_at IS NULL AND failed_at IS NOT NULL;

-- One row per user the bot cannot write to; removed when they write to it again (or unblock).
CREATE TABLE IF NOT EXISTS unreachable_users (
    user_id  bigint PRIMARY KEY,
    reason   text NOT NULL,
    since    timestamptz NOT NULL
);
