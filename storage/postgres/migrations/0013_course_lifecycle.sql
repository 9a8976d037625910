-- Course lifecycle: an archived course takes no new sessions (its records stay), and every
-- change to a course (rename, archive, roster removal, new join code, transfer) is audited.
ALTER TABLE courses ADD COLUMN IF NOT EXISTS archived_at timestamptz;

CREATE TABLE IF NOT EXISTS course_audit (
    id          bigserial PRIMARY KEY,
    course_id   bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    changed_by  bigint NOT NULL,
    changed_at  timestamptz NOT NULL,
    action      text NOT NULL,
    old_value   text,
    new_value   text
);
CREATE INDEX IF NOT EXISTS course_audit_course_idx ON course_audit (course_id, id);
