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
    ExportRow,
    Session,
    SessionSummary,
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


INSERT_SESSION = """
INSERT INTO sessions (id, teacher_id, chat_id, title, started_at, ends_at, late_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO NOTHING
"""

INSERT_ATTENDANCE = """
INSERT INTO attendance (session_id, student_id, status, checked_in_at)
SELECT $1, student_id, status, checked_in_at
FROM unnest($2::bigint[], $3::text[], $4::timestamptz[]) AS t(student_id, status, checked_in_at)
ON CONFLICT (session_id, student_id) DO NOTHING
"""

INSERT_OUTBOX = """
INSERT INTO summary_outbox (session_id) VALUES ($1) ON CONFLICT (session_id) DO NOTHING
"""

# Names from a cache never erase a registered name: COALESCE keeps what is stored.
UPSERT_PROFILES = """
INSERT INTO users AS u (id, first_name, last_name, username, full_name, student_number,
                        last_seen)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[])
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

SAVE_REGISTRATION = """
INSERT INTO users (id, first_name, last_name, username, full_name, student_number, last_seen)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    full_name = EXCLUDED.full_name,
    student_number = EXCLUDED.student_number,
    updated_at = now()
"""

CLAIM_SUMMARIES = """
UPDATE summary_outbox SET claimed_until = $2, attempts = attempts + 1
WHERE session_id IN (
    SELECT session_id FROM summary_outbox
    WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $1)
    ORDER BY created_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING session_id
"""

MARK_SUMMARY_SENT = "UPDATE summary_outbox SET sent_at = $2 WHERE session_id = $1"
RELEASE_SUMMARY = "UPDATE summary_outbox SET claimed_until = NULL WHERE session_id = $1"

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

SESSION_EXISTS = "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)"


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
        self, session: Session, checkins: Sequence[CheckIn], profiles: Sequence[UserProfile]
    ) -> int:
        """Write a session, its check-ins, the profiles it names and its outbox row at once.

        Everything is `ON CONFLICT DO NOTHING`, so a sweep that runs again after a crash adds
        nothing twice. Returns the number of attendance rows this call inserted.
        """
        async with _pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                INSERT_SESSION,
                session.id,
                session.teacher_id,
                session.chat_id,
                session.title,
                session.started_at,
                session.ends_at,
                session.late_at,
            )
            if profiles:
                await self._upsert_profiles(conn, profiles)
            status = await conn.execute(
                INSERT_ATTENDANCE,
                session.id,
                [c.student_id for c in checkins],
                [c.status.value for c in checkins],
                [c.checked_in_at for c in checkins],
            )
            await conn.execute(INSERT_OUTBOX, session.id)
        return int(status.rsplit(" ", 1)[-1])

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
    ) -> list[str]:
        """Lease up to `limit` unsent summaries; a process that dies loses its lease."""
        async with _pg_guard():
            rows = await self._pool.fetch(
                CLAIM_SUMMARIES, now, now + timedelta(seconds=lease_seconds), limit
            )
        return [row["session_id"] for row in rows]

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        async with _pg_guard(), self._pool.acquire() as conn:
            session = await conn.fetchrow(SELECT_SESSION, session_id)
            if session is None:
                return None
            rows = await conn.fetch(SELECT_SESSION_LINES, session_id)
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
        )

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        async with _pg_guard():
            await self._pool.execute(MARK_SUMMARY_SENT, session_id, now)

    async def release_summary(self, session_id: str) -> None:
        async with _pg_guard():
            await self._pool.execute(RELEASE_SUMMARY, session_id)

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

    async def session_exists(self, session_id: str) -> bool:
        async with _pg_guard():
            return bool(await self._pool.fetchval(SESSION_EXISTS, session_id))
