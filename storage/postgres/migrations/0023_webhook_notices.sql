-- Issue 16: the course's owner is told, in a private message, when a webhook delivery is
-- given up (after its last retry), and once when a hook starts failing (a delivery that
-- failed several attempts in a row; told again only after a delivery went through).
--
-- A notice is written in the same transaction as what it tells (the give-up), claimed by
-- marking it sent and then sent: at most once, across processes; an owner who blocked the
-- bot is logged, not retried. It names the session by id only (no foreign key: a session
-- deleted meanwhile still leaves a notice to read), and carries the error as the outbox
-- recorded it (no URL, no secret: the owner's message shows the URL without its query).
CREATE TABLE IF NOT EXISTS webhook_notices (
    id          bigserial PRIMARY KEY,
    hook_id     bigint NOT NULL REFERENCES course_webhooks (id) ON DELETE CASCADE,
    session_id  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('gave_up', 'failing')),
    attempts    integer NOT NULL,
    error       text NOT NULL,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz
);

CREATE INDEX IF NOT EXISTS webhook_notices_due_idx ON webhook_notices (id) WHERE sent_at IS NULL;

-- Set when the hook's "failing" notice was written; cleared by the next delivery that goes
-- through, so a later failing spell is told again.
ALTER TABLE course_webhooks ADD COLUMN IF NOT EXISTS failing_since timestamptz;
