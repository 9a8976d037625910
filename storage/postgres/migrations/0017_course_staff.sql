-- Co-teachers and assistants: people other than the owner who may act on one course, and
-- the one-time links the owner invites them with (only a SHA-256 hash of each token is
-- stored). Joining and removal are audited in course_audit (actions add_staff, remove_staff).
CREATE TABLE IF NOT EXISTS course_staff (
    course_id  bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL,
    role       text NOT NULL CHECK (role IN ('co_teacher', 'assistant')),
    added_by   bigint NOT NULL,
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX IF NOT EXISTS course_staff_user_idx ON course_staff (user_id);

CREATE TABLE IF NOT EXISTS course_staff_invites (
    token_hash  text PRIMARY KEY,
    course_id   bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('co_teacher', 'assistant')),
    created_by  bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_by     bigint,
    used_at     timestamptz
);
