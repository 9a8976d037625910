-- The parts of a queued summary Telegram already took ('text', 'card', 'csv'), so that a
-- retry after a failed CSV upload sends only the CSV instead of the whole summary again
-- (sendMessage has no idempotency key: the teacher would read the same text once per retry).
ALTER TABLE summary_outbox ADD COLUMN IF NOT EXISTS parts_sent text[] NOT NULL DEFAULT '{}';
