-- Issue 12: what a user set in /settings besides the language (kept on users, 0014): whether
-- they want low-attendance nudges, and a teacher's defaults for /start_session. A row only for
-- someone who changed something; no row means the defaults (nudges on, the installation's
-- length and rotation). No personal data, so no foreign key: /forgetme and the retention
-- sweep leave it alone like the other rows keyed by a Telegram id.
CREATE TABLE IF NOT EXISTS user_preferences (
    user_id          bigint PRIMARY KEY,
    nudges           boolean NOT NULL DEFAULT true,
    session_minutes  integer CHECK (session_minutes BETWEEN 1 AND 240),
    rotation_seconds integer CHECK (rotation_seconds >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
