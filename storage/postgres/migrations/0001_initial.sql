-- Users, sessions, attendance records (one per student per session) and the summary outbox.
CREATE TABLE IF NOT EXISTS users (
    id              bigint PRIMARY KEY,
    first_name      text NOT NULL DEFAULT '',
    last_name       text,
    username        text,
    full_name       text,
    student_number  text,
    last_seen       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sessions (
    id              text PRIMARY KEY,
    teacher_id      bigint NOT NULL,
    chat_id         bigint NOT NULL,
    title           text NOT NULL,
    started_at      timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    late_at         timestamptz,
    persisted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sessions_teacher_idx ON sessions (teacher_id, started_at DESC);

CREATE TABLE IF NOT EXISTS attendance (
    session_id      text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    student_id      bigint NOT NULL,
    status          text NOT NULL CHECK (status IN ('present', 'late', 'excused', 'absent')),
    checked_in_at   timestamptz,
    PRIMARY KEY (session_id, student_id)
);
CREATE INDEX IF NOT EXISTS attendance_student_idx ON attendance (student_id);

-- One summary per session: written in the sweep's transaction, marked sent after delivery.
CREATE TABLE IF NOT EXISTS summary_outbox (
    session_id      text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    sent_at         timestamptz
);
CREATE INDEX IF NOT EXISTS summary_outbox_pending_idx ON summary_outbox (created_at)
    WHERE sent_at IS NULL;
