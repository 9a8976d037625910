-- /forgetme removes the student from rosters (their records stay, pseudonymised) and nothing
-- is ever queued to a pseudonym. Earlier versions moved enrolments and nudges to the
-- pseudonym: a "Former student" stayed on the roster, absent every session, and got nudges at
-- a negative chat id. Remove those rows, and make the database refuse them from now on.
DELETE FROM enrolments WHERE student_id < 0;
DELETE FROM nudge_outbox WHERE student_id < 0;
ALTER TABLE enrolments DROP CONSTRAINT IF EXISTS enrolments_real_user;
ALTER TABLE enrolments ADD CONSTRAINT enrolments_real_user CHECK (student_id > 0);
ALTER TABLE nudge_outbox DROP CONSTRAINT IF EXISTS nudge_outbox_real_user;
ALTER TABLE nudge_outbox ADD CONSTRAINT nudge_outbox_real_user CHECK (student_id > 0);
