-- Teachers made by admins, their one-time invitations, forgotten users' pseudonyms, and the
-- location check's outcome (inside, distance rounded to 10 m; never coordinates).
CREATE TABLE IF NOT EXISTS teachers (
    user_id   bigint PRIMARY KEY,
    added_by  bigint NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 hash of each invitation token is stored.
CREATE TABLE IF NOT EXISTS teacher_invites (
    token_hash  text PRIMARY KEY,
    created_by  bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_by     bigint,
    used_at     timestamptz
);

-- A user who asked to be forgotten: their records now carry `pseudonym` instead of their id.
-- The row itself only lives long enough to remap records of sessions still live then.
CREATE TABLE IF NOT EXISTS forgotten_users (
    user_id       bigint PRIMARY KEY,
    pseudonym     bigint NOT NULL UNIQUE,
    forgotten_at  timestamptz NOT NULL
);

ALTER TABLE attendance ADD COLUMN IF NOT EXISTS distance_m integer;
CREATE INDEX IF NOT EXISTS sessions_started_idx ON sessions (started_at);
