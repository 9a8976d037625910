-- Issue 16, build point 2: an optional outgoing webhook per course, told of every saved
-- session (HMAC-signed, retried with back-off through its own outbox).
--
-- The signing secret is stored as it is: it must be usable to sign every delivery, so it
-- cannot be hashed like an API token. It is shown to the owner once, when made, and never
-- logged. Setting a URL again makes a new row (and a new secret); the old row goes, and with
-- it (ON DELETE CASCADE) the deliveries still queued for it.
CREATE TABLE IF NOT EXISTS course_webhooks (
    id          bigserial PRIMARY KEY,
    course_id   bigint NOT NULL UNIQUE REFERENCES courses (id) ON DELETE CASCADE,
    url         text NOT NULL,
    secret      text NOT NULL,
    created_by  bigint NOT NULL,
    created_at  timestamptz NOT NULL
);

-- One row per saved session and hook, written in the sweep's transaction: exactly once per
-- saved session, even when the sweep runs again (the unique key, ON CONFLICT DO NOTHING).
-- The row ends delivered (`delivered_at`) or failed (`failed_at`, with why).
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id               bigserial PRIMARY KEY,
    session_id       text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    hook_id          bigint NOT NULL REFERENCES course_webhooks (id) ON DELETE CASCADE,
    event            text NOT NULL DEFAULT 'session.saved',
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    claimed_until    timestamptz,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    last_status      integer,
    last_error       text,
    UNIQUE (session_id, hook_id)
);

-- The courier's claim reads only rows still in play, in the order they become due.
CREATE INDEX IF NOT EXISTS webhook_outbox_due_idx
    ON webhook_outbox ((coalesce(next_attempt_at, created_at)))
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS webhook_outbox_hook_idx ON webhook_outbox (hook_id, id);
