-- Courses with rosters, statuses beyond "present", teachers' corrections, warning nudges.
CREATE TABLE IF NOT EXISTS courses (
    id                  bigserial PRIMARY KEY,
    teacher_id          bigint NOT NULL,
    name                text NOT NULL,
    join_code           text NOT NULL UNIQUE,
    invite_token        text NOT NULL UNIQUE,
    late_after_minutes  integer NOT NULL DEFAULT 10 CHECK (late_after_minutes BETWEEN 0 AND 240),
    warn_below_percent  integer NOT NULL DEFAULT 70 CHECK (warn_below_percent BETWEEN 0 AND 100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (teacher_id, name)
);

CREATE TABLE IF NOT EXISTS enrolments (
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id   bigint NOT NULL,
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, student_id)
);
CREATE INDEX IF NOT EXISTS enrolments_student_idx ON enrolments (student_id);

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS course_id bigint REFERENCES courses (id);
CREATE INDEX IF NOT EXISTS sessions_course_idx ON sessions (course_id, started_at);

-- Every manual correction: who, when, which session and student, from what to what.
-- No foreign key to sessions: a live session is corrected before it reaches PostgreSQL.
CREATE TABLE IF NOT EXISTS attendance_audit (
    id          bigserial PRIMARY KEY,
    session_id  text NOT NULL,
    student_id  bigint NOT NULL,
    changed_by  bigint NOT NULL,
    changed_at  timestamptz NOT NULL,
    old_status  text,
    new_status  text NOT NULL
);
CREATE INDEX IF NOT EXISTS attendance_audit_session_idx ON attendance_audit (session_id);

-- Private warnings to students below a course's threshold; written by the sweep's
-- transaction, delivered like summaries.
CREATE TABLE IF NOT EXISTS nudge_outbox (
    session_id     text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    student_id     bigint NOT NULL,
    course_id      bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    percent        numeric(5, 1) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    sent_at        timestamptz,
    PRIMARY KEY (session_id, student_id)
);
CREATE INDEX IF NOT EXISTS nudge_outbox_pending_idx ON nudge_outbox (created_at)
    WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS nudge_outbox_student_idx ON nudge_outbox (course_id, student_id);
