"""A person's own data: shown on request, pseudonymised on /forgetme, aged out."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.models import CourseRole, PersonalData, Preferences
from storage.postgres.pool import pg_guard
from storage.postgres.roles import IS_TEACHER
from storage.postgres.rows import profile_from_row
from storage.postgres.users import SELECT_PREFERENCES, SELECT_PROFILE

SELECT_ENROLLED_NAMES = """
SELECT c.name FROM enrolments e JOIN courses c ON c.id = e.course_id
WHERE e.student_id = $1 ORDER BY c.name
"""

SELECT_STAFF_OF = """
SELECT c.name, s.role FROM course_staff s JOIN courses c ON c.id = s.course_id
WHERE s.user_id = $1 ORDER BY c.name
"""

COUNT_ATTENDANCE = "SELECT count(*) FROM attendance WHERE student_id = $1"

COUNT_EXCUSE_REQUESTS = "SELECT count(*) FROM excuse_requests WHERE student_id = $1"

# Each request gets a fresh pseudonym (a repeated one, after re-joining, too: nothing links
# the two), and `forgotten_at` moves to the latest request: records of sessions that started
# before it and reach PostgreSQL later are stored under the pseudonym (PERSIST_SESSION).
INSERT_FORGOTTEN = """
INSERT INTO forgotten_users (user_id, pseudonym, forgotten_at) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET pseudonym = EXCLUDED.pseudonym,
                                    forgotten_at = EXCLUDED.forgotten_at
"""

PSEUDONYM_USER = """
INSERT INTO users (id, first_name) VALUES ($1, 'Former student') ON CONFLICT (id) DO NOTHING
"""

# Records (and their audit trail) move to the pseudonym, so teachers' counts stay right; the
# student leaves every roster, and nothing stays queued for them (a pseudonym is never sent
# anything: the database refuses enrolments and nudges of negative ids, migration 0007).
FORGET_MOVES = [
    "UPDATE attendance SET student_id = $2 WHERE student_id = $1",
    "UPDATE attendance_audit SET student_id = $2 WHERE student_id = $1",
    # The course audit names a student as the one removed or leaving (old value: their id)
    # and as the one who left (changed by): the same pseudonym there. A teacher's or staff
    # member's changes stay theirs, as their courses do.
    """UPDATE course_audit SET old_value = $2::bigint::text
       WHERE action IN ('remove_student', 'leave') AND old_value = $1::bigint::text""",
    "UPDATE course_audit SET changed_by = $2 WHERE action = 'leave' AND changed_by = $1",
]

# Excuse requests go whole (the reason and the document's file id are the student's own
# words and papers); an approved one's `excused` record and its audit row stay, moved above.
# The `teachers` row stays: being made a teacher is the institution's record (their courses,
# sessions and reports hang on it), not personal data; admins remove it with /remove_teacher.
FORGET_DELETES = [
    "DELETE FROM enrolments WHERE student_id = $1",
    "DELETE FROM excuse_requests WHERE student_id = $1",
    "DELETE FROM nudge_outbox WHERE student_id = $1",
    "DELETE FROM absence_alerts WHERE student_id = $1",
    "DELETE FROM unreachable_users WHERE user_id = $1",
    # Co-teaching or assisting is a grant to the person (unlike the `teachers` row): it goes,
    # and the links they used no longer name them; the owner can invite them again.
    "DELETE FROM course_staff WHERE user_id = $1",
    "UPDATE course_staff_invites SET used_by = NULL WHERE used_by = $1",
    "DELETE FROM user_preferences WHERE user_id = $1",  # their /settings (the language is on users)
    "DELETE FROM users WHERE id = $1",
]

# A claimed roster place is released: it stands in the roster again under a fresh stand-in
# (absent from now on; the records so far stay with the pseudonym), and claims waiting for a
# teacher go.
RELEASE_PLACES = """
WITH released AS (
    UPDATE roster_places
    SET claimed_by = NULL, claimed_at = NULL,
        stand_in = -(1 + floor(random() * 4611686018427387903))::bigint
    WHERE claimed_by = $1
    RETURNING stand_in, full_name, student_number
)
INSERT INTO users (id, first_name, full_name, student_number)
SELECT stand_in, '', full_name, student_number FROM released
ON CONFLICT (id) DO NOTHING
"""

FORGET_PLACES = [RELEASE_PLACES, "DELETE FROM roster_claims WHERE student_id = $1"]

# Records of a forgotten user that reach PostgreSQL later (a session that was live when they
# asked) are remapped in the sweep's transaction.
DELETE_OLD_SESSIONS = "DELETE FROM sessions WHERE started_at < $1"

# Excuse requests age out with the session they are about (a live one is not in `sessions`).
DELETE_OLD_EXCUSES = "DELETE FROM excuse_requests WHERE session_started_at < $1"

DELETE_OLD_AUDIT = "DELETE FROM attendance_audit WHERE changed_at < $1"

DELETE_OLD_COURSE_AUDIT = "DELETE FROM course_audit WHERE changed_at < $1"

DELETE_OLD_FORGOTTEN = "DELETE FROM forgotten_users WHERE forgotten_at < $1"

DELETE_OLD_INVITES = "DELETE FROM teacher_invites WHERE expires_at < $1"

DELETE_OLD_STAFF_INVITES = "DELETE FROM course_staff_invites WHERE expires_at < $1"
# An imported place nobody claimed goes once it is older than the retention period and no
# kept session counts it; so do claims no teacher decided within that time.
DELETE_OLD_PLACES = """
DELETE FROM roster_places p
WHERE p.imported_at < $1 AND p.stand_in IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.student_id = p.stand_in)
"""

DELETE_OLD_CLAIMS = "DELETE FROM roster_claims WHERE requested_at < $1"

# Absence alerts (about a student) and digest claims age out like the sessions they followed.
DELETE_OLD_ALERTS = "DELETE FROM absence_alerts WHERE created_at < $1"
DELETE_OLD_DIGESTS = "DELETE FROM teacher_digests WHERE claimed_until < $1"

# A pseudonym's "Former student" row goes once nothing refers to it (its records aged out, or
# a repeated /forgetme of someone with no records replaced it).
DELETE_UNUSED_PSEUDONYMS = """
DELETE FROM users u
WHERE u.id < 0
  AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.student_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM attendance_audit au WHERE au.student_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM forgotten_users f WHERE f.pseudonym = u.id)
  AND NOT EXISTS (SELECT 1 FROM roster_places p WHERE p.stand_in = u.id)
"""


class PostgresPrivacyRecords:
    """`PrivacyRecords` over PostgreSQL: personal data, forgetting and retention."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def personal_data(self, user_id: int) -> PersonalData:
        """Everything stored about the user in PostgreSQL."""
        async with pg_guard(), self._pool.acquire() as conn:
            profile = await conn.fetchrow(SELECT_PROFILE, user_id)
            courses = [r["name"] for r in await conn.fetch(SELECT_ENROLLED_NAMES, user_id)]
            records = await conn.fetchval(COUNT_ATTENDANCE, user_id)
            teacher = await conn.fetchval(IS_TEACHER, user_id)
            staff_of = await conn.fetch(SELECT_STAFF_OF, user_id)
            excuses = await conn.fetchval(COUNT_EXCUSE_REQUESTS, user_id)
            settings = await conn.fetchrow(SELECT_PREFERENCES, user_id)
        return PersonalData(
            profile=profile_from_row(profile) if profile else None,
            courses=courses,
            attendance_records=int(records),
            is_teacher=bool(teacher),
            staff_of=[(r["name"], CourseRole(r["role"])) for r in staff_of],
            excuse_requests=int(excuses),
            preferences=None
            if settings is None
            else Preferences(
                nudges=bool(settings["nudges"]),
                session_minutes=settings["session_minutes"],
                rotation_seconds=settings["rotation_seconds"],
                alerts=bool(settings["alerts"]),
            ),
        )

    async def forget_user(self, user_id: int, *, pseudonym: int, now: datetime) -> None:
        """Remove the user's name and number and take them off every roster; their records
        stay under a fresh pseudonym. Can be repeated any number of times."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_FORGOTTEN, user_id, pseudonym, now)
            await conn.execute(PSEUDONYM_USER, pseudonym)
            for statement in FORGET_MOVES:
                await conn.execute(statement, user_id, pseudonym)
            for statement in [*FORGET_PLACES, *FORGET_DELETES]:
                await conn.execute(statement, user_id)

    async def delete_older_than(self, *, cutoff: datetime, forgotten_cutoff: datetime) -> int:
        """The retention job: sessions (with their records) started before `cutoff`."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            status: str = await conn.execute(DELETE_OLD_SESSIONS, cutoff)
            await conn.execute(DELETE_OLD_AUDIT, cutoff)
            await conn.execute(DELETE_OLD_EXCUSES, cutoff)
            await conn.execute(DELETE_OLD_COURSE_AUDIT, cutoff)
            await conn.execute(DELETE_OLD_FORGOTTEN, forgotten_cutoff)
            await conn.execute(DELETE_OLD_INVITES, cutoff)
            await conn.execute(DELETE_OLD_STAFF_INVITES, cutoff)
            await conn.execute(DELETE_OLD_PLACES, cutoff)
            await conn.execute(DELETE_OLD_CLAIMS, cutoff)
            await conn.execute(DELETE_OLD_ALERTS, cutoff)
            await conn.execute(DELETE_OLD_DIGESTS, cutoff)
            await conn.execute(DELETE_UNUSED_PSEUDONYMS)
        return int(status.rsplit(" ", 1)[-1])
