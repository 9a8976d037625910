-- The official roster imported from a file: one place per student number and course. While
-- nobody claims it, a place stands in the roster under a negative `stand_in` id (with a
-- `users` row carrying the imported name and number), so sessions record it absent and
-- reports count it; a claim moves those records to the student and clears `stand_in`.
CREATE TABLE IF NOT EXISTS roster_places (
    id              bigserial PRIMARY KEY,
    course_id       bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_number  text NOT NULL,
    full_name       text NOT NULL,
    email           text,
    group_name      text,
    imported_by     bigint NOT NULL,
    imported_at     timestamptz NOT NULL,
    stand_in        bigint UNIQUE CHECK (stand_in < 0),
    claimed_by      bigint CHECK (claimed_by > 0),
    claimed_at      timestamptz,
    UNIQUE (course_id, student_number),
    UNIQUE (course_id, claimed_by),
    CHECK ((stand_in IS NULL) <> (claimed_by IS NULL))
);
CREATE INDEX IF NOT EXISTS roster_places_claimed_idx ON roster_places (claimed_by);

-- A claim the teacher must decide: a number that matched no free place. One per student and
-- course (asking again replaces the number).
CREATE TABLE IF NOT EXISTS roster_claims (
    id              bigserial PRIMARY KEY,
    course_id       bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id      bigint NOT NULL CHECK (student_id > 0),
    student_number  text NOT NULL,
    requested_at    timestamptz NOT NULL,
    UNIQUE (course_id, student_id)
);
