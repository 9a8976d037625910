-- Issue 13, timetables: a course's recurring slots (weekday, local start time, length) in
-- its own time zone, over a term, with holidays skipped; and one row per slot that has been
-- acted on, so that with several bot processes each slot is reminded, opened and reported
-- exactly once (each stage is a conditional UPDATE of that row: the one process whose
-- statement changed it does the work). No personal data: course ids, times, session ids.
CREATE TABLE IF NOT EXISTS timetables (
    course_id       bigint PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
    first_day       date NOT NULL,
    last_day        date NOT NULL,
    -- [[weekday 0=Monday, "HH:MM", minutes], ...] in the course's zone.
    slots           jsonb NOT NULL DEFAULT '[]',
    holidays        date[] NOT NULL DEFAULT '{}',
    early_minutes   integer NOT NULL DEFAULT 0 CHECK (early_minutes BETWEEN 0 AND 60),
    remind_minutes  integer NOT NULL DEFAULT 15 CHECK (remind_minutes BETWEEN 0 AND 1440),
    group_chat_id   bigint,
    -- Slots that started before the last change are never reported as missed.
    changed_at      timestamptz NOT NULL,
    CHECK (last_day >= first_day)
);

CREATE TABLE IF NOT EXISTS timetable_runs (
    course_id           bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    starts_at           timestamptz NOT NULL,
    reminded_at         timestamptz,
    -- A process opening the slot's session holds it until then (a crash frees it).
    open_claimed_until  timestamptz,
    session_id          text,
    reported_at         timestamptz,
    PRIMARY KEY (course_id, starts_at)
);
CREATE INDEX IF NOT EXISTS timetable_runs_starts_idx ON timetable_runs (starts_at);
