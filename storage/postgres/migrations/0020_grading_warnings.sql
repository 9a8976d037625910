-- Issue 13, items 5 and 6: a course's grading policy, the absence-streak alerts (each sent
-- once per streak, whichever process finds it) and each teacher's weekly digest (one per ISO
-- week). Both alert tables are leased outboxes: a row is claimed with `claimed_until`, sent,
-- then marked `sent_at`; a process that dies in between leaves it to the next after the lease.

-- No row: the defaults (present 1, late 0.8, absent 0, excused left out, no absence limit,
-- the rate to date, an alert after 3 absences in a row to the student and the teacher).
CREATE TABLE IF NOT EXISTS grading_policies (
    course_id        bigint PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
    present_points   numeric(3, 2) NOT NULL DEFAULT 1 CHECK (present_points BETWEEN 0 AND 1),
    late_points      numeric(3, 2) NOT NULL DEFAULT 0.8 CHECK (late_points BETWEEN 0 AND 1),
    absent_points    numeric(3, 2) NOT NULL DEFAULT 0 CHECK (absent_points BETWEEN 0 AND 1),
    excused_counted  boolean NOT NULL DEFAULT false,
    allowed_absences integer CHECK (allowed_absences BETWEEN 0 AND 1000),
    whole_term       boolean NOT NULL DEFAULT false,
    planned_sessions integer CHECK (planned_sessions BETWEEN 1 AND 1000),
    streak_alert     integer NOT NULL DEFAULT 3 CHECK (streak_alert BETWEEN 0 AND 100),
    alert_to         text NOT NULL DEFAULT 'both' CHECK (alert_to IN ('student', 'teacher', 'both')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per streak of absences that reached the course's limit: keyed by the session that
-- started the streak, so a streak is alerted once however many processes look at it, and a
-- new streak (after a session attended) is alerted again. About a person: deleted by
-- /forgetme, by retention with its course's old sessions, counted in /mydata.
CREATE TABLE IF NOT EXISTS absence_alerts (
    course_id     bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id    bigint NOT NULL,
    streak_start  text NOT NULL,
    absences      integer NOT NULL,
    created_at    timestamptz NOT NULL,
    claimed_until timestamptz,
    sent_at       timestamptz,
    PRIMARY KEY (course_id, student_id, streak_start)
);
CREATE INDEX IF NOT EXISTS absence_alerts_student_idx ON absence_alerts (student_id);

-- One row per teacher and ISO week (`2026-W49`): the digest of that week, claimed once.
CREATE TABLE IF NOT EXISTS teacher_digests (
    teacher_id    bigint NOT NULL,
    iso_week      text NOT NULL,
    claimed_until timestamptz NOT NULL,
    sent_at       timestamptz,
    PRIMARY KEY (teacher_id, iso_week)
);

-- /settings: absence alerts and the weekly digest on or off (on unless switched off).
ALTER TABLE user_preferences ADD COLUMN IF NOT EXISTS alerts boolean NOT NULL DEFAULT true;
