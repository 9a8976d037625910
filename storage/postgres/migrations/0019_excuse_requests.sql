-- Issue 13 (4): a student asks to be excused from a session, with a reason and optionally a
-- photo or a PDF. Only Telegram's file_id is stored: the document stays in Telegram. A
-- request names a saved session or the course's live one (not in `sessions` yet, so no
-- foreign key); `session_started_at` ages it out with the session (retention), and /forgetme
-- deletes a student's requests (the attendance record and its audit row stay, pseudonymised).
-- The decision is made once: `state` leaves 'pending' in one conditional UPDATE.
CREATE TABLE IF NOT EXISTS excuse_requests (
    id                  bigserial PRIMARY KEY,
    course_id           bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    session_id          text NOT NULL,
    session_title       text NOT NULL,
    session_started_at  timestamptz NOT NULL,
    student_id          bigint NOT NULL CHECK (student_id > 0),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    file_id             text CHECK (length(file_id) BETWEEN 1 AND 255),
    file_kind           text CHECK (file_kind IN ('photo', 'document')),
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'approved', 'declined')),
    created_at          timestamptz NOT NULL,
    decided_by          bigint,
    decided_at          timestamptz,
    CHECK ((file_id IS NULL) = (file_kind IS NULL)),
    CHECK ((state = 'pending') = (decided_by IS NULL))
);
-- One open request per student and session: a second one is refused until it is decided.
CREATE UNIQUE INDEX IF NOT EXISTS excuse_requests_one_pending
    ON excuse_requests (session_id, student_id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS excuse_requests_student_idx ON excuse_requests (student_id);
CREATE INDEX IF NOT EXISTS excuse_requests_started_idx ON excuse_requests (session_started_at);
