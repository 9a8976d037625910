"""The PostgreSQL store: the system of record (asyncpg, parameterised SQL only)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg

from services.errors import StorageUnavailable
from services.models import (
    AttendanceLine,
    AttendanceStatus,
    CheckIn,
    Course,
    ExportRow,
    Nudge,
    PersonalData,
    Session,
    SessionState,
    SessionSummary,
    StudentStanding,
    SummaryPart,
    UserProfile,
)

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    TimeoutError,
)


@asynccontextmanager
async def _pg_guard() -> AsyncIterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StorageUnavailable("PostgreSQL") from exc


# The whole session in one statement (one round trip): the session row, its records (a
# forgotten student's under their pseudonym) and its outbox row. The foreign keys to
# `sessions` are checked at the end of the statement, when the session row exists.
PERSIST_SESSION = """
WITH new_session AS (
    INSERT INTO sessions (id, teacher_id, chat_id, title, started_at, ends_at, late_at,
                          course_id, card_chat_id, card_message_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (id) DO NOTHING
), new_rows AS (
    INSERT INTO attendance (session_id, student_id, status, checked_in_at, distance_m)
    SELECT $1, coalesce(f.pseudonym, t.student_id), t.status,
           to_timestamp(t.checked_in_ms / 1000.0), t.distance_m
    FROM unnest($11::bigint[], $12::text[], $13::bigint[], $14::integer[])
         AS t(student_id, status, checked_in_ms, distance_m)
    LEFT JOIN forgotten_users f ON f.user_id = t.student_id AND f.forgotten_at > $5
    ON CONFLICT (session_id, student_id) DO NOTHING
    RETURNING 1
), outbox AS (
    INSERT INTO summary_outbox (session_id) VALUES ($1) ON CONFLICT (session_id) DO NOTHING
), new_users AS (
    -- Students first seen while PostgreSQL was away have no row yet: the caller fills in
    -- their names from the profile cache. A student forgotten after the session started is
    -- recorded under their pseudonym (above) and gets no row.
    INSERT INTO users (id)
    SELECT t.id FROM unnest($11::bigint[]) AS t(id)
    WHERE NOT EXISTS (
        SELECT 1 FROM forgotten_users f WHERE f.user_id = t.id AND f.forgotten_at > $5
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM new_rows) AS inserted,
       (SELECT coalesce(array_agg(id), '{}') FROM new_users) AS new_users
"""

# Names from a cache never erase a registered name: COALESCE keeps what is stored.
UPSERT_PROFILES = """
INSERT INTO users AS u (id, first_name, last_name, username, full_name, student_number,
                        last_seen)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[]) AS t(id, first_name, last_name, username, full_name,
                                             student_number, last_seen)
WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f
                  WHERE f.user_id = t.id AND f.forgotten_at >= t.last_seen)
ON CONFLICT (id) DO UPDATE SET
    first_name = EXCLUDED.first_name,
    last_name = EXCLUDED.last_name,
    username = EXCLUDED.username,
    full_name = COALESCE(EXCLUDED.full_name, u.full_name),
    student_number = COALESCE(EXCLUDED.student_number, u.student_number),
    last_seen = GREATEST(EXCLUDED.last_seen, u.last_seen),
    updated_at = now()
"""

SELECT_PROFILE = """
SELECT id, first_name, last_name, username, full_name, student_number, last_seen
FROM users WHERE id = $1
"""

SELECT_PROFILES = """
SELECT id, first_name, last_name, username, full_name, student_number, last_seen
FROM users WHERE id = ANY($1::bigint[])
"""

# Names read before a user asked to be forgotten are never written back (a profile cached or
# loaded just before /forgetme); a later visit (last_seen after it) stores them again.
INSERT_NEW_USERS = """
INSERT INTO users (id, first_name, last_name, username, last_seen)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
    AS t(id, first_name, last_name, username, last_seen)
WHERE NOT EXISTS (SELECT 1 FROM forgotten_users f
                  WHERE f.user_id = t.id AND f.forgotten_at >= t.last_seen)
ON CONFLICT (id) DO NOTHING
"""

SAVE_REGISTRATION = """
INSERT INTO users (id, first_name, last_name, username, full_name, student_number, last_seen)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    full_name = EXCLUDED.full_name,
    student_number = EXCLUDED.student_number,
    updated_at = now()
"""

# Only rows that are due: not sent, not final, not leased, and past their back-off. A row
# that failed gets a later `next_attempt_at`, so it never holds up the rows behind it.
CLAIM_SUMMARIES = """
UPDATE summary_outbox SET claimed_until = $2, attempts = attempts + 1
WHERE session_id IN (
    SELECT session_id FROM summary_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < $1)
      AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    ORDER BY coalesce(next_attempt_at, created_at)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING session_id, attempts
"""
POSTPONE_SUMMARY = """
UPDATE summary_outbox SET claimed_until = NULL, next_attempt_at = $2, last_error = $3
WHERE session_id = $1 AND sent_at IS NULL
"""
GIVE_UP_SUMMARY = """
UPDATE summary_outbox SET claimed_until = NULL, failed_at = $2, failure = $3, last_error = $4
WHERE session_id = $1 AND sent_at IS NULL
"""
# A teacher's summaries that ended undelivered, leased so that two processes handling two
# messages of the same teacher show each one once.
CLAIM_UNDELIVERED_SUMMARIES = """
UPDATE summary_outbox o SET claimed_until = $3
FROM sessions s
WHERE s.id = o.session_id AND s.teacher_id = $1
  AND o.sent_at IS NULL AND o.failed_at IS NOT NULL AND o.failure <> 'rejected'
  AND (o.claimed_until IS NULL OR o.claimed_until < $2)
RETURNING o.session_id, s.started_at
"""
# Rows queued to someone the bot knows it cannot reach end at once, without a request.
GIVE_UP_UNREACHABLE_SUMMARIES = """
UPDATE summary_outbox o SET failed_at = $1, failure = 'unreachable', last_error = u.reason
FROM sessions s, unreachable_users u
WHERE s.id = o.session_id AND u.user_id = s.teacher_id
  AND o.sent_at IS NULL AND o.failed_at IS NULL
  AND (o.claimed_until IS NULL OR o.claimed_until < $1)
RETURNING o.session_id
"""
GIVE_UP_UNREACHABLE_NUDGES = """
UPDATE nudge_outbox n SET failed_at = $1, failure = 'unreachable', last_error = u.reason
FROM unreachable_users u
WHERE u.user_id = n.student_id
  AND n.sent_at IS NULL AND n.failed_at IS NULL
  AND (n.claimed_until IS NULL OR n.claimed_until < $1)
RETURNING n.session_id
"""
SET_UNREACHABLE = """
INSERT INTO unreachable_users (user_id, reason, since) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason
"""
SET_REACHABLE = "DELETE FROM unreachable_users WHERE user_id = $1"
# Who may need attention when they write: users the bot cannot reach, and teachers with a
# summary that ended undelivered.
SELECT_AWAITED_USERS = """
SELECT user_id FROM unreachable_users
UNION
SELECT s.teacher_id FROM summary_outbox o JOIN sessions s ON s.id = o.session_id
WHERE o.sent_at IS NULL AND o.failed_at IS NOT NULL AND o.failure <> 'rejected'
"""
COUNT_OUTBOX_PENDING = """
SELECT (SELECT count(*) FROM summary_outbox WHERE sent_at IS NULL AND failed_at IS NULL),
       (SELECT count(*) FROM nudge_outbox WHERE sent_at IS NULL AND failed_at IS NULL)
"""

EXTEND_SUMMARY_LEASE = """
UPDATE summary_outbox SET claimed_until = $2 WHERE session_id = $1 AND sent_at IS NULL
"""
EXTEND_NUDGE_LEASE = """
UPDATE nudge_outbox SET claimed_until = $3
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""
# Once: a summary sent again on request (/summary) keeps the time it was first delivered.
MARK_SUMMARY_SENT = """
UPDATE summary_outbox SET sent_at = $2 WHERE session_id = $1 AND sent_at IS NULL
"""
RELEASE_SUMMARY = "UPDATE summary_outbox SET claimed_until = NULL WHERE session_id = $1"
SELECT_SUMMARY_PARTS = "SELECT parts_sent FROM summary_outbox WHERE session_id = $1"
MARK_SUMMARY_PART_SENT = """
UPDATE summary_outbox SET parts_sent = array_append(parts_sent, $2::text)
WHERE session_id = $1 AND NOT ($2::text = ANY (parts_sent))
"""

SELECT_SESSION = """
SELECT id, teacher_id, chat_id, title, started_at, ends_at FROM sessions WHERE id = $1
"""

SELECT_SESSION_LINES = """
SELECT a.student_id, a.status, a.checked_in_at,
       u.full_name, u.first_name, u.last_name, u.username
FROM attendance a LEFT JOIN users u ON u.id = a.student_id
WHERE a.session_id = $1
ORDER BY a.checked_in_at NULLS LAST, a.student_id
"""

SELECT_EXPORT = """
SELECT s.id AS session_id, s.title, s.teacher_id, a.student_id, a.status, a.checked_in_at,
       u.full_name, u.first_name, u.last_name, u.username
FROM attendance a
JOIN sessions s ON s.id = a.session_id
LEFT JOIN users u ON u.id = a.student_id
WHERE ($1::text IS NULL OR s.id = $1)
ORDER BY s.started_at, s.id, a.checked_in_at NULLS LAST, a.student_id
"""


IS_TEACHER = "SELECT EXISTS (SELECT 1 FROM teachers WHERE user_id = $1)"
SELECT_TEACHERS = """
SELECT t.user_id, u.first_name, u.last_name, u.username, u.full_name
FROM teachers t LEFT JOIN users u ON u.id = t.user_id ORDER BY t.added_at
"""
INSERT_INVITE = """
INSERT INTO teacher_invites (token_hash, created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4)
"""
USE_INVITE = """
UPDATE teacher_invites SET used_by = $2, used_at = $3
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3
RETURNING created_by
"""
INSERT_TEACHER = """
INSERT INTO teachers (user_id, added_by) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING
"""
DELETE_TEACHER = "DELETE FROM teachers WHERE user_id = $1"
SELECT_USER_BY_USERNAME = "SELECT id FROM users WHERE lower(username) = lower($1) LIMIT 1"

SELECT_ENROLLED_NAMES = """
SELECT c.name FROM enrolments e JOIN courses c ON c.id = e.course_id
WHERE e.student_id = $1 ORDER BY c.name
"""
COUNT_ATTENDANCE = "SELECT count(*) FROM attendance WHERE student_id = $1"
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
]
# The `teachers` row stays: being made a teacher is the institution's record (their courses,
# sessions and reports hang on it), not personal data; admins remove it with /remove_teacher.
FORGET_DELETES = [
    "DELETE FROM enrolments WHERE student_id = $1",
    "DELETE FROM nudge_outbox WHERE student_id = $1",
    "DELETE FROM unreachable_users WHERE user_id = $1",
    "DELETE FROM users WHERE id = $1",
]
# Records of a forgotten user that reach PostgreSQL later (a session that was live when they
# asked) are remapped in the sweep's transaction.
DELETE_OLD_SESSIONS = "DELETE FROM sessions WHERE started_at < $1"
DELETE_OLD_AUDIT = "DELETE FROM attendance_audit WHERE changed_at < $1"
DELETE_OLD_FORGOTTEN = "DELETE FROM forgotten_users WHERE forgotten_at < $1"
DELETE_OLD_INVITES = "DELETE FROM teacher_invites WHERE expires_at < $1"
# A pseudonym's "Former student" row goes once nothing refers to it (its records aged out, or
# a repeated /forgetme of someone with no records replaced it).
DELETE_UNUSED_PSEUDONYMS = """
DELETE FROM users u
WHERE u.id < 0
  AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.student_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM attendance_audit au WHERE au.student_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM forgotten_users f WHERE f.pseudonym = u.id)
"""

# Per-student standing in a course: one attendance row per session the student was on the
# roster for (the sweep writes "absent" rows), so counting rows counts sessions.
COURSE_STANDINGS = """
SELECT e.student_id, u.full_name, u.first_name, u.last_name, u.username, u.student_number,
       count(a.session_id) AS sessions,
       count(*) FILTER (WHERE a.status = 'present') AS present,
       count(*) FILTER (WHERE a.status = 'late') AS late,
       count(*) FILTER (WHERE a.status = 'excused') AS excused,
       count(*) FILTER (WHERE a.status = 'absent') AS absent
FROM enrolments e
LEFT JOIN users u ON u.id = e.student_id
LEFT JOIN attendance a
       ON a.student_id = e.student_id
      AND a.session_id IN (SELECT id FROM sessions WHERE course_id = $1)
WHERE e.course_id = $1
GROUP BY e.student_id, u.full_name, u.first_name, u.last_name, u.username, u.student_number
ORDER BY lower(coalesce(u.full_name, u.first_name, '')), e.student_id
"""

# Nudge every enrolled student now below the course threshold after at least 3 sessions,
# unless they were nudged fewer than 3 sessions ago. Runs in the sweep's transaction.
INSERT_NUDGES = """
WITH stats AS (
    SELECT a.student_id,
           count(*) AS sessions,
           count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
           count(*) FILTER (WHERE a.status = 'excused') AS excused
    FROM attendance a
    JOIN sessions s ON s.id = a.session_id
    JOIN enrolments e ON e.course_id = s.course_id AND e.student_id = a.student_id
    WHERE s.course_id = $2
    GROUP BY a.student_id
), at_risk AS (
    SELECT st.student_id, 100.0 * st.attended / (st.sessions - st.excused) AS percent
    FROM stats st, courses c
    WHERE c.id = $2 AND st.sessions >= 3 AND st.sessions > st.excused
      AND 100.0 * st.attended / (st.sessions - st.excused) < c.warn_below_percent
), last_nudge AS (
    SELECT n.student_id, max(s.started_at) AS started_at
    FROM nudge_outbox n JOIN sessions s ON s.id = n.session_id
    WHERE n.course_id = $2
    GROUP BY n.student_id
)
INSERT INTO nudge_outbox (session_id, student_id, course_id, percent)
SELECT $1, r.student_id, $2, round(r.percent, 1)
FROM at_risk r LEFT JOIN last_nudge l ON l.student_id = r.student_id
WHERE r.student_id > 0  -- never a pseudonym (a forgotten student)
  AND NOT EXISTS (SELECT 1 FROM unreachable_users u WHERE u.user_id = r.student_id)
  AND (l.started_at IS NULL
   OR (SELECT count(*) FROM sessions s
       WHERE s.course_id = $2 AND s.started_at > l.started_at) >= 3)
ON CONFLICT (session_id, student_id) DO NOTHING
"""

INSERT_COURSE = """
INSERT INTO courses (teacher_id, name, join_code, invite_token)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING id
"""

COURSE_COLUMNS = """
c.id, c.teacher_id, c.name, c.join_code, c.invite_token, c.late_after_minutes,
c.warn_below_percent,
(SELECT count(*) FROM enrolments e WHERE e.course_id = c.id) AS roster_size
"""
SELECT_COURSE = f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = $1"  # noqa: S608
SELECT_COURSE_BY_CODE = f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.join_code = $1"  # noqa: S608
SELECT_COURSE_BY_INVITE = f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.invite_token = $1"  # noqa: S608
SELECT_TEACHER_COURSES = (
    f"SELECT {COURSE_COLUMNS} FROM courses c WHERE c.teacher_id = $1 ORDER BY c.name"  # noqa: S608
)
SELECT_STUDENT_COURSES = (
    f"SELECT {COURSE_COLUMNS} FROM courses c JOIN enrolments e ON e.course_id = c.id "  # noqa: S608
    "WHERE e.student_id = $1 ORDER BY c.name"
)
COURSE_NAME_TAKEN = "SELECT EXISTS (SELECT 1 FROM courses WHERE teacher_id = $1 AND name = $2)"
UPDATE_COURSE_SETTINGS = """
UPDATE courses SET late_after_minutes = $2, warn_below_percent = $3 WHERE id = $1
"""

ENROL = """
INSERT INTO enrolments (course_id, student_id) VALUES ($1, $2)
ON CONFLICT (course_id, student_id) DO NOTHING
"""
SELECT_ROSTER = "SELECT student_id FROM enrolments WHERE course_id = $1"
SELECT_ROSTER_PROFILES = """
SELECT u.id, u.first_name, u.last_name, u.username, u.full_name, u.student_number, u.last_seen
FROM enrolments e JOIN users u ON u.id = e.student_id
WHERE e.course_id = $1
"""

SELECT_STATUS_FOR_UPDATE = """
SELECT status FROM attendance WHERE session_id = $1 AND student_id = $2 FOR UPDATE
"""
UPSERT_STATUS = """
INSERT INTO attendance (session_id, student_id, status, checked_in_at) VALUES ($1, $2, $3, NULL)
ON CONFLICT (session_id, student_id) DO UPDATE SET status = EXCLUDED.status
"""
INSERT_AUDIT = """
INSERT INTO attendance_audit (session_id, student_id, changed_by, changed_at, old_status,
                              new_status)
VALUES ($1, $2, $3, $4, $5, $6)
"""

INSERT_AUDIT_RETURNING_ID = INSERT_AUDIT.rstrip() + " RETURNING id"
DELETE_AUDIT = "DELETE FROM attendance_audit WHERE id = $1"

SELECT_LATEST_SESSION = """
SELECT id, teacher_id, chat_id, title, started_at, ends_at, late_at, course_id
FROM sessions WHERE teacher_id = $1 ORDER BY started_at DESC LIMIT 1
"""
SELECT_SESSION_FULL = """
SELECT id, teacher_id, chat_id, title, started_at, ends_at, late_at, course_id, card_chat_id,
       card_message_id,
       (SELECT count(*) FROM attendance a WHERE a.session_id = sessions.id) AS roster_size
FROM sessions WHERE id = $1
"""

SELECT_COURSE_SESSIONS = """
SELECT s.id, s.title, s.started_at,
       count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
       count(*) FILTER (WHERE a.status <> 'excused') AS counted,
       count(*) FILTER (WHERE a.status = 'late') AS late,
       count(*) FILTER (WHERE a.status = 'absent') AS absent,
       count(*) FILTER (WHERE a.status = 'excused') AS excused
FROM sessions s LEFT JOIN attendance a ON a.session_id = s.id
WHERE s.course_id = $1
GROUP BY s.id, s.title, s.started_at
ORDER BY s.started_at
"""

CLAIM_NUDGES = """
UPDATE nudge_outbox n SET claimed_until = $2, attempts = n.attempts + 1
FROM courses c
WHERE c.id = n.course_id
  AND (n.session_id, n.student_id) IN (
    SELECT session_id, student_id FROM nudge_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < $1)
      AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    ORDER BY coalesce(next_attempt_at, created_at)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING n.session_id, n.student_id, c.name, n.percent, c.warn_below_percent, n.attempts
"""
POSTPONE_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL, next_attempt_at = $3, last_error = $4
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""
GIVE_UP_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL, failed_at = $3, failure = $4, last_error = $5
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""
MARK_NUDGE_SENT = """
UPDATE nudge_outbox SET sent_at = $3 WHERE session_id = $1 AND student_id = $2
"""
RELEASE_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL WHERE session_id = $1 AND student_id = $2
"""


def _profile_from_row(row: asyncpg.Record) -> UserProfile:
    return UserProfile(
        user_id=row["id"],
        first_name=row["first_name"] or "",
        last_name=row["last_name"],
        username=row["username"],
        full_name=row["full_name"],
        student_number=row["student_number"],
        last_seen=row["last_seen"],
    )


def _course_from_row(row: asyncpg.Record) -> Course:
    return Course(
        id=row["id"],
        teacher_id=row["teacher_id"],
        name=row["name"],
        join_code=row["join_code"],
        invite_token=row["invite_token"],
        late_after_minutes=row["late_after_minutes"],
        warn_below_percent=row["warn_below_percent"],
        roster_size=row["roster_size"],
    )


def _standing_from_row(row: asyncpg.Record) -> StudentStanding:
    return StudentStanding(
        student_id=row["student_id"],
        name=_name_from_row(row, row["student_id"]),
        student_number=row["student_number"],
        sessions=row["sessions"],
        present=row["present"],
        late=row["late"],
        excused=row["excused"],
        absent=row["absent"],
    )


def _session_from_row(row: asyncpg.Record) -> Session:
    return Session(
        id=row["id"],
        teacher_id=row["teacher_id"],
        chat_id=row["chat_id"],
        title=row["title"],
        code="",
        started_at=row["started_at"],
        ends_at=row["ends_at"],
        state=SessionState.SEALED,
        late_at=row["late_at"],
        course_id=row["course_id"],
    )


def _name_from_row(row: asyncpg.Record, student_id: int) -> str:
    return UserProfile(
        user_id=student_id,
        first_name=row["first_name"] or "",
        last_name=row["last_name"],
        username=row["username"],
        full_name=row["full_name"],
    ).display_name


class PostgresRecordStore:
    """Sessions, attendance, users and the summary outbox in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn]
    ) -> tuple[int, list[int]]:
        """Write a session, its records, nudges and its outbox row in one transaction.

        Everything is `ON CONFLICT DO NOTHING`, so a sweep that runs again after a crash adds
        nothing twice. Returns the number of attendance rows this call inserted, and the
        students who had no `users` row yet (the caller stores their cached names).
        """
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                PERSIST_SESSION,
                session.id,
                session.teacher_id,
                session.chat_id,
                session.title,
                session.started_at,
                session.ends_at,
                session.late_at,
                session.course_id,
                session.card_chat_id,
                session.card_message_id,
                [c.student_id for c in checkins],
                [c.status.value for c in checkins],
                [c.checked_in_ms for c in checkins],
                [c.distance_m for c in checkins],
            )
            if session.course_id is not None:
                await conn.execute(INSERT_NUDGES, session.id, session.course_id)
        return int(row["inserted"]), list(row["new_users"])

    async def _upsert_profiles(
        self, conn: asyncpg.Connection, profiles: Sequence[UserProfile]
    ) -> None:
        ordered = sorted(profiles, key=lambda p: p.user_id)  # a fixed order avoids deadlocks
        await conn.execute(
            UPSERT_PROFILES,
            [p.user_id for p in ordered],
            [p.first_name for p in ordered],
            [p.last_name for p in ordered],
            [p.username for p in ordered],
            [p.full_name for p in ordered],
            [p.student_number for p in ordered],
            [p.last_seen for p in ordered],
        )

    async def upsert_profiles(self, profiles: Sequence[UserProfile]) -> None:
        if not profiles:
            return
        async with _pg_guard(), self._pool.acquire() as conn:
            await self._upsert_profiles(conn, profiles)

    async def load_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_PROFILES, list(user_ids))
        return {row["id"]: _profile_from_row(row) for row in rows}

    async def add_new_users(self, profiles: Sequence[UserProfile]) -> None:
        """Rows for users seen for the first time (their Telegram names); existing rows stay."""
        ordered = sorted(profiles, key=lambda p: p.user_id)
        async with _pg_guard():
            await self._pool.execute(
                INSERT_NEW_USERS,
                [p.user_id for p in ordered],
                [p.first_name for p in ordered],
                [p.last_name for p in ordered],
                [p.username for p in ordered],
                [p.last_seen for p in ordered],
            )

    async def load_profile(self, user_id: int) -> UserProfile | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_PROFILE, user_id)
        return _profile_from_row(row) if row else None

    async def save_registration(
        self, profile: UserProfile, full_name: str, student_number: str | None
    ) -> None:
        async with _pg_guard():
            await self._pool.execute(
                SAVE_REGISTRATION,
                profile.user_id,
                profile.first_name,
                profile.last_name,
                profile.username,
                full_name,
                student_number,
                profile.last_seen,
            )

    async def claim_pending_summaries(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[tuple[str, int]]:
        """Lease up to `limit` due summaries, with the attempt each claim is (1 = first).

        A process that dies loses its lease; rows in back-off or final are not claimed.
        """
        async with _pg_guard():
            rows = await self._pool.fetch(
                CLAIM_SUMMARIES, now, now + timedelta(seconds=lease_seconds), limit
            )
        return [(row["session_id"], int(row["attempts"])) for row in rows]

    async def postpone_summary(self, session_id: str, at: datetime, error: str) -> None:
        """Release the lease; the row is not due again before `at`."""
        async with _pg_guard():
            await self._pool.execute(POSTPONE_SUMMARY, session_id, at, error[:500])

    async def give_up_summary(
        self, session_id: str, now: datetime, failure: str, error: str
    ) -> None:
        """Final state: no more attempts (the teacher sees it when they next write)."""
        async with _pg_guard():
            await self._pool.execute(GIVE_UP_SUMMARY, session_id, now, failure, error[:500])

    async def claim_undelivered_summaries(
        self, teacher_id: int, now: datetime, lease_seconds: float
    ) -> list[str]:
        """Lease the teacher's summaries that ended undelivered, oldest first."""
        async with _pg_guard():
            rows = await self._pool.fetch(
                CLAIM_UNDELIVERED_SUMMARIES,
                teacher_id,
                now,
                now + timedelta(seconds=lease_seconds),
            )
        return [row["session_id"] for row in sorted(rows, key=lambda r: r["started_at"])]

    async def give_up_unreachable(self, now: datetime) -> dict[str, int]:
        """End every queued row addressed to a user known to be unreachable; counts by kind."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            summaries = await conn.fetch(GIVE_UP_UNREACHABLE_SUMMARIES, now)
            nudges = await conn.fetch(GIVE_UP_UNREACHABLE_NUDGES, now)
        return {"summary": len(summaries), "nudge": len(nudges)}

    async def set_unreachable(self, user_id: int, reason: str, now: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(SET_UNREACHABLE, user_id, reason[:200], now)

    async def set_reachable(self, user_id: int) -> None:
        async with _pg_guard():
            await self._pool.execute(SET_REACHABLE, user_id)

    async def awaited_users(self) -> set[int]:
        """Users unreachable, and teachers with an undelivered summary to show them."""
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_AWAITED_USERS)
        return {int(row[0]) for row in rows}

    async def outbox_pending(self) -> dict[str, int]:
        """Rows still to be delivered (not sent, not final), by kind."""
        async with _pg_guard():
            row = await self._pool.fetchrow(COUNT_OUTBOX_PENDING)
        return {"summary": int(row[0]), "nudge": int(row[1])}

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        async with _pg_guard(), self._pool.acquire() as conn:
            session = await conn.fetchrow(SELECT_SESSION_FULL, session_id)
            if session is None:
                return None
            rows = await conn.fetch(SELECT_SESSION_LINES, session_id)
            course_name: str | None = None
            at_risk: list[StudentStanding] = []
            if session["course_id"] is not None:
                course = await conn.fetchrow(SELECT_COURSE, session["course_id"])
                course_name = course["name"]
                standings = await conn.fetch(COURSE_STANDINGS, session["course_id"])
                at_risk = [
                    st
                    for st in map(_standing_from_row, standings)
                    if st.sessions >= 3 and st.percent < course["warn_below_percent"]
                ]
        return SessionSummary(
            session_id=session["id"],
            teacher_id=session["teacher_id"],
            chat_id=session["chat_id"],
            title=session["title"],
            started_at=session["started_at"],
            ends_at=session["ends_at"],
            lines=[
                AttendanceLine(
                    student_id=row["student_id"],
                    name=_name_from_row(row, row["student_id"]),
                    status=AttendanceStatus(row["status"]),
                    checked_in_at=row["checked_in_at"],
                )
                for row in rows
            ],
            course_name=course_name,
            at_risk=at_risk,
            card_chat_id=session["card_chat_id"],
            card_message_id=session["card_message_id"],
            roster_size=session["roster_size"] if session["course_id"] is not None else 0,
        )

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(MARK_SUMMARY_SENT, session_id, now)

    async def extend_summary_lease(self, session_id: str, until: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(EXTEND_SUMMARY_LEASE, session_id, until)

    async def extend_nudge_lease(self, nudge: Nudge, until: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(EXTEND_NUDGE_LEASE, nudge.session_id, nudge.student_id, until)

    async def release_summary(self, session_id: str) -> None:
        async with _pg_guard():
            await self._pool.execute(RELEASE_SUMMARY, session_id)

    async def summary_parts_sent(self, session_id: str) -> frozenset[SummaryPart]:
        """The parts of a queued summary Telegram already took (none without a row)."""
        async with _pg_guard():
            parts = await self._pool.fetchval(SELECT_SUMMARY_PARTS, session_id)
        return frozenset(part for part in SummaryPart if part.value in (parts or ()))

    async def mark_summary_part_sent(self, session_id: str, part: SummaryPart) -> None:
        """Telegram took this part: a retry of the row skips it."""
        async with _pg_guard():
            await self._pool.execute(MARK_SUMMARY_PART_SENT, session_id, part.value)

    async def export_rows(self, session_id: str | None) -> list[ExportRow]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_EXPORT, session_id)
        return [
            ExportRow(
                session_id=row["session_id"],
                session_title=row["title"],
                teacher_id=row["teacher_id"],
                student_id=row["student_id"],
                student_name=_name_from_row(row, row["student_id"]),
                checked_in_at=row["checked_in_at"],
                status=AttendanceStatus(row["status"]),
            )
            for row in rows
        ]

    async def create_course(
        self, teacher_id: int, name: str, join_code: str, invite_token: str
    ) -> Course | None:
        """Insert a course; None when the join code or invite token collided (draw again)."""
        async with _pg_guard():
            course_id = await self._pool.fetchval(
                INSERT_COURSE, teacher_id, name, join_code, invite_token
            )
        return await self.course(course_id) if course_id is not None else None

    async def course_name_taken(self, teacher_id: int, name: str) -> bool:
        async with _pg_guard():
            return bool(await self._pool.fetchval(COURSE_NAME_TAKEN, teacher_id, name))

    async def course(self, course_id: int) -> Course | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE, course_id)
        return _course_from_row(row) if row else None

    async def course_by_join_code(self, join_code: str) -> Course | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE_BY_CODE, join_code)
        return _course_from_row(row) if row else None

    async def course_by_invite(self, invite_token: str) -> Course | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE_BY_INVITE, invite_token)
        return _course_from_row(row) if row else None

    async def teacher_courses(self, teacher_id: int) -> list[Course]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_TEACHER_COURSES, teacher_id)
        return [_course_from_row(row) for row in rows]

    async def student_courses(self, student_id: int) -> list[Course]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_STUDENT_COURSES, student_id)
        return [_course_from_row(row) for row in rows]

    async def update_course_settings(
        self, course_id: int, late_after_minutes: int, warn_below_percent: int
    ) -> None:
        async with _pg_guard():
            await self._pool.execute(
                UPDATE_COURSE_SETTINGS, course_id, late_after_minutes, warn_below_percent
            )

    async def enrol(self, course_id: int, profile: UserProfile) -> bool:
        """Enrol the student (and store their profile); False when already enrolled."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await self._upsert_profiles(conn, [profile])
            status: str = await conn.execute(ENROL, course_id, profile.user_id)
        return status.endswith(" 1")

    async def roster(self, course_id: int) -> list[int]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_ROSTER, course_id)
        return [row["student_id"] for row in rows]

    async def roster_profiles(self, course_id: int) -> list[UserProfile]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_ROSTER_PROFILES, course_id)
        return [_profile_from_row(row) for row in rows]

    async def course_standings(self, course_id: int) -> list[StudentStanding]:
        async with _pg_guard():
            rows = await self._pool.fetch(COURSE_STANDINGS, course_id)
        return [_standing_from_row(row) for row in rows]

    async def course_sessions(
        self, course_id: int
    ) -> list[tuple[str, str, datetime, int, int, int, int, int]]:
        """Per session: id, title, start, attended, counted, late, absent, excused."""
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_COURSE_SESSIONS, course_id)
        return [
            (
                r["id"],
                r["title"],
                r["started_at"],
                r["attended"],
                r["counted"],
                r["late"],
                r["absent"],
                r["excused"],
            )
            for r in rows
        ]

    # --- corrections ---------------------------------------------------------------------

    async def persisted_session(self, session_id: str) -> Session | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_SESSION_FULL, session_id)
        return _session_from_row(row) if row else None

    async def latest_session(self, teacher_id: int) -> Session | None:
        async with _pg_guard():
            row = await self._pool.fetchrow(SELECT_LATEST_SESSION, teacher_id)
        return _session_from_row(row) if row else None

    async def correct_status(
        self,
        session_id: str,
        student_id: int,
        status: AttendanceStatus,
        changed_by: int,
        now: datetime,
    ) -> AttendanceStatus | None:
        """Change a stored record and audit it in one transaction; returns the old status."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            old = await conn.fetchval(SELECT_STATUS_FOR_UPDATE, session_id, student_id)
            await conn.execute(UPSERT_STATUS, session_id, student_id, status.value)
            await conn.execute(
                INSERT_AUDIT, session_id, student_id, changed_by, now, old, status.value
            )
        return AttendanceStatus(old) if old else None

    async def audit_live_correction(
        self,
        session_id: str,
        student_id: int,
        changed_by: int,
        now: datetime,
        old: AttendanceStatus | None,
        new: AttendanceStatus,
    ) -> int:
        """Audit a correction of a live session before it is made; returns the row's id."""
        async with _pg_guard():
            audit_id = await self._pool.fetchval(
                INSERT_AUDIT_RETURNING_ID,
                session_id,
                student_id,
                changed_by,
                now,
                old.value if old else None,
                new.value,
            )
        return int(audit_id)

    async def delete_audit(self, audit_id: int) -> None:
        """Withdraw the audit of a correction that was not made after all."""
        async with _pg_guard():
            await self._pool.execute(DELETE_AUDIT, audit_id)

    # --- nudges --------------------------------------------------------------------------

    async def claim_pending_nudges(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[Nudge]:
        async with _pg_guard():
            rows = await self._pool.fetch(
                CLAIM_NUDGES, now, now + timedelta(seconds=lease_seconds), limit
            )
        return [
            Nudge(
                r["session_id"],
                r["student_id"],
                r["name"],
                float(r["percent"]),
                r["warn_below_percent"],
                int(r["attempts"]),
            )
            for r in rows
        ]

    async def postpone_nudge(self, nudge: Nudge, at: datetime, error: str) -> None:
        async with _pg_guard():
            await self._pool.execute(
                POSTPONE_NUDGE, nudge.session_id, nudge.student_id, at, error[:500]
            )

    async def give_up_nudge(self, nudge: Nudge, now: datetime, failure: str, error: str) -> None:
        async with _pg_guard():
            await self._pool.execute(
                GIVE_UP_NUDGE, nudge.session_id, nudge.student_id, now, failure, error[:500]
            )

    async def mark_nudge_sent(self, nudge: Nudge, now: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(MARK_NUDGE_SENT, nudge.session_id, nudge.student_id, now)

    async def release_nudge(self, nudge: Nudge) -> None:
        async with _pg_guard():
            await self._pool.execute(RELEASE_NUDGE, nudge.session_id, nudge.student_id)

    # --- health ---------------------------------------------------------------------------

    async def ping(self) -> None:
        """Raise StorageUnavailable unless PostgreSQL answers `SELECT 1`."""
        async with _pg_guard():
            await self._pool.fetchval("SELECT 1")

    # --- roles ----------------------------------------------------------------------------

    async def is_teacher(self, user_id: int) -> bool:
        async with _pg_guard():
            return bool(await self._pool.fetchval(IS_TEACHER, user_id))

    async def teachers(self) -> list[UserProfile]:
        async with _pg_guard():
            rows = await self._pool.fetch(SELECT_TEACHERS)
        return [
            UserProfile(
                user_id=r["user_id"],
                first_name=r["first_name"] or "",
                last_name=r["last_name"],
                username=r["username"],
                full_name=r["full_name"],
            )
            for r in rows
        ]

    async def create_teacher_invite(
        self, token_hash: str, created_by: int, now: datetime, expires_at: datetime
    ) -> None:
        async with _pg_guard():
            await self._pool.execute(INSERT_INVITE, token_hash, created_by, now, expires_at)

    async def use_teacher_invite(self, token_hash: str, user_id: int, now: datetime) -> bool:
        """Spend a valid, unused, unexpired invitation and make the user a teacher, at once."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            creator = await conn.fetchval(USE_INVITE, token_hash, user_id, now)
            if creator is None:
                return False
            await conn.execute(INSERT_TEACHER, user_id, creator)
        return True

    async def remove_teacher(self, user_id: int) -> bool:
        async with _pg_guard():
            status: str = await self._pool.execute(DELETE_TEACHER, user_id)
        return status.endswith(" 1")

    async def user_by_username(self, username: str) -> int | None:
        async with _pg_guard():
            value = await self._pool.fetchval(SELECT_USER_BY_USERNAME, username)
        return int(value) if value is not None else None

    # --- privacy --------------------------------------------------------------------------

    async def personal_data(self, user_id: int) -> PersonalData:
        """Everything stored about the user in PostgreSQL."""
        async with _pg_guard(), self._pool.acquire() as conn:
            profile = await conn.fetchrow(SELECT_PROFILE, user_id)
            courses = [r["name"] for r in await conn.fetch(SELECT_ENROLLED_NAMES, user_id)]
            records = await conn.fetchval(COUNT_ATTENDANCE, user_id)
            teacher = await conn.fetchval(IS_TEACHER, user_id)
        return PersonalData(
            profile=_profile_from_row(profile) if profile else None,
            courses=courses,
            attendance_records=int(records),
            is_teacher=bool(teacher),
        )

    async def forget_user(self, user_id: int, pseudonym: int, now: datetime) -> None:
        """Remove the user's name and number and take them off every roster; their records
        stay under a fresh pseudonym. Can be repeated any number of times."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_FORGOTTEN, user_id, pseudonym, now)
            await conn.execute(PSEUDONYM_USER, pseudonym)
            for statement in FORGET_MOVES:
                await conn.execute(statement, user_id, pseudonym)
            for statement in FORGET_DELETES:
                await conn.execute(statement, user_id)

    async def delete_older_than(self, cutoff: datetime, forgotten_cutoff: datetime) -> int:
        """The retention job: sessions (with their records) started before `cutoff`."""
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            status: str = await conn.execute(DELETE_OLD_SESSIONS, cutoff)
            await conn.execute(DELETE_OLD_AUDIT, cutoff)
            await conn.execute(DELETE_OLD_FORGOTTEN, forgotten_cutoff)
            await conn.execute(DELETE_OLD_INVITES, cutoff)
            await conn.execute(DELETE_UNUSED_PSEUDONYMS)
        return int(status.rsplit(" ", 1)[-1])
