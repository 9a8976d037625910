"""The REST API's records: per-course tokens (by hash) and keyset pages of saved sessions and
attendance records."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from services.models import AttendanceStatus, CourseAction
from services.ports.api import (
    ApiCorrection,
    ApiRecordRow,
    ApiScope,
    ApiSessionRow,
    ApiToken,
    RecordKey,
    SessionKey,
    audit_value,
    registry_name,
)
from storage.postgres.pool import pg_guard

TOKEN_COLUMNS = "id, course_id, label, scope, created_by, created_at, last_used_at, revoked_at"

INSERT_TOKEN = f"""
INSERT INTO api_tokens (token_hash, course_id, label, scope, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}
"""  # noqa: S608

# Taken before counting a course's tokens and adding one: two makings at once on a course
# with one place left run one after the other (the second sees the first's row). NO KEY
# UPDATE conflicts only with itself and FOR UPDATE, so nothing that merely references the
# course (check-ins, sessions) waits for it.
LOCK_COURSE = "SELECT id FROM courses WHERE id = $1 FOR NO KEY UPDATE"

COUNT_COURSE_TOKENS = "SELECT count(*) FROM api_tokens WHERE course_id = $1 AND revoked_at IS NULL"

SELECT_COURSE_TOKENS = f"""
SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE course_id = $1 AND revoked_at IS NULL ORDER BY id
"""  # noqa: S608

REVOKE_TOKEN = f"""
UPDATE api_tokens SET revoked_at = $3, revoked_by = $4
WHERE course_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}
"""  # noqa: S608

# A course's transfer: every token still in force, whose secrets the former owner holds.
REVOKE_COURSE_TOKENS = f"""
UPDATE api_tokens SET revoked_at = $2, revoked_by = $3
WHERE course_id = $1 AND revoked_at IS NULL RETURNING {TOKEN_COLUMNS}
"""  # noqa: S608

# Read on every request, so no cache can outlive a revocation; `last_used_at` is written at
# most once a minute per token (not a row version per request).
USE_TOKEN = f"""
WITH found AS (
    SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL
), touched AS (
    UPDATE api_tokens t SET last_used_at = $2::timestamptz FROM found
    WHERE t.id = found.id
      AND (found.last_used_at IS NULL OR found.last_used_at < $2::timestamptz - interval '1 minute')
)
SELECT * FROM found
"""  # noqa: S608

AUDIT = """
INSERT INTO course_audit (course_id, changed_by, changed_at, action, old_value, new_value)
VALUES ($1, $2, $3, $4, $5, $6)
"""

SESSION_FROM = """
SELECT s.id, s.title, s.started_at, s.ends_at, n.present, n.late, n.excused, n.absent
FROM sessions s CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE a.status = 'present') AS present,
           count(*) FILTER (WHERE a.status = 'late') AS late,
           count(*) FILTER (WHERE a.status = 'excused') AS excused,
           count(*) FILTER (WHERE a.status = 'absent') AS absent
    FROM attendance a WHERE a.session_id = s.id
) n
"""

SELECT_SESSION_PAGE = f"""
{SESSION_FROM}
WHERE s.course_id = $1
  AND ($2::timestamptz IS NULL OR (s.started_at, s.id) > ($2::timestamptz, $3::text))
ORDER BY s.started_at, s.id
LIMIT $4
"""

SELECT_SESSION = f"""
{SESSION_FROM} WHERE s.course_id = $1 AND s.id = $2
"""

# The name as the registry knows it (the registered or imported one, else the Telegram
# first and last name); never the username.
SELECT_RECORD_PAGE = """
WITH page AS (
    SELECT s.id AS session_id, s.started_at, a.student_id, a.status, a.checked_in_at
    FROM sessions s
    JOIN attendance a ON a.session_id = s.id
    WHERE s.course_id = $1
      AND ($2::text IS NULL OR s.id = $2)
      AND ($3::timestamptz IS NULL
           OR (s.started_at, s.id, a.student_id) > ($3::timestamptz, $4::text, $5::bigint))
    ORDER BY s.started_at, s.id, a.student_id
    LIMIT $6
)
SELECT p.session_id, p.started_at, p.student_id, p.status, p.checked_in_at,
       u.student_number, u.full_name, u.first_name, u.last_name,
       (SELECT json_agg(json_build_array(x.changed_at, x.old_status, x.new_status)
                        ORDER BY x.id)
        FROM attendance_audit x
        WHERE x.session_id = p.session_id AND x.student_id = p.student_id) AS corrections
FROM page p
LEFT JOIN users u ON u.id = p.student_id
ORDER BY p.started_at, p.session_id, p.student_id
"""

SELECT_COURSE_CELLS = """
SELECT a.student_id, array_agg(a.session_id) AS sessions, array_agg(a.status) AS statuses
FROM sessions s
JOIN attendance a ON a.session_id = s.id
WHERE s.course_id = $1
GROUP BY a.student_id
"""
_STATUSES = {s.value: s for s in AttendanceStatus}

SELECT_STUDENT_RECORDS = """
SELECT s.id AS session_id, s.started_at, a.student_id, a.status, a.checked_in_at,
       u.student_number, u.full_name, u.first_name, u.last_name,
       (SELECT json_agg(json_build_array(x.changed_at, x.old_status, x.new_status)
                        ORDER BY x.id)
        FROM attendance_audit x
        WHERE x.session_id = s.id AND x.student_id = a.student_id) AS corrections
FROM sessions s
JOIN attendance a ON a.session_id = s.id AND a.student_id = $2
LEFT JOIN users u ON u.id = a.student_id
WHERE s.course_id = $1
ORDER BY s.started_at, s.id
"""


def _token(row: asyncpg.Record) -> ApiToken:
    return ApiToken(
        id=row["id"],
        course_id=row["course_id"],
        label=row["label"],
        scope=ApiScope(row["scope"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def _session(row: asyncpg.Record) -> ApiSessionRow:
    return ApiSessionRow(
        id=row["id"],
        title=row["title"],
        started_at=row["started_at"],
        ends_at=row["ends_at"],
        present=row["present"],
        late=row["late"],
        excused=row["excused"],
        absent=row["absent"],
    )


def _record(row: asyncpg.Record) -> ApiRecordRow:
    corrections = tuple(
        ApiCorrection(
            changed_at=datetime.fromisoformat(at),
            old_status=AttendanceStatus(old) if old else None,
            new_status=AttendanceStatus(new),
        )
        for at, old, new in json.loads(row["corrections"] or "[]")
    )
    return ApiRecordRow(
        session_id=row["session_id"],
        session_started_at=row["started_at"],
        student_id=row["student_id"],
        student_number=row["student_number"],
        name=registry_name(row["full_name"], row["first_name"], row["last_name"]),
        status=AttendanceStatus(row["status"]),
        checked_in_at=row["checked_in_at"],
        corrections=corrections,
    )


async def revoke_course_tokens(
    conn: asyncpg.Connection, course_id: int, *, by: int, at: datetime
) -> int:
    """Revokes every token of the course still in force, each audited as `revoke_api_token`
    audits one, on `conn` (in the caller's transaction); how many."""
    rows = await conn.fetch(REVOKE_COURSE_TOKENS, course_id, at, by)
    for token in sorted((_token(row) for row in rows), key=lambda t: t.id):
        await conn.execute(
            AUDIT, course_id, by, at, CourseAction.API_TOKEN_REVOKE.value, audit_value(token), None
        )
    return len(rows)


class PostgresApiTokens:
    """`ApiTokenRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_api_token(
        self,
        token_hash: str,
        *,
        course_id: int,
        label: str,
        scope: ApiScope,
        created_by: int,
        now: datetime,
        limit: int,
    ) -> ApiToken | None:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await conn.execute(LOCK_COURSE, course_id)
            if await conn.fetchval(COUNT_COURSE_TOKENS, course_id) >= limit:
                return None
            row = await conn.fetchrow(
                INSERT_TOKEN, token_hash, course_id, label, scope.value, created_by, now
            )
            token = _token(row)
            await conn.execute(
                AUDIT,
                course_id,
                created_by,
                now,
                CourseAction.API_TOKEN_NEW.value,
                None,
                audit_value(token),
            )
        return token

    async def course_api_tokens(self, course_id: int) -> list[ApiToken]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_COURSE_TOKENS, course_id)
        return [_token(row) for row in rows]

    async def revoke_api_token(
        self, course_id: int, *, token_id: int, by: int, at: datetime
    ) -> ApiToken | None:
        """None when the course has no such token still in force (nothing audited)."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(REVOKE_TOKEN, course_id, token_id, at, by)
            if row is None:
                return None
            token = _token(row)
            await conn.execute(
                AUDIT,
                course_id,
                by,
                at,
                CourseAction.API_TOKEN_REVOKE.value,
                audit_value(token),
                None,
            )
        return token

    async def use_api_token(self, token_hash: str, now: datetime) -> ApiToken | None:
        async with pg_guard():
            row = await self._pool.fetchrow(USE_TOKEN, token_hash, now)
        return _token(row) if row is not None else None


class PostgresApiReads:
    """`ApiReadRecords` over PostgreSQL: keyset pages in the order of the API."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def session_page(
        self, course_id: int, *, after: SessionKey | None, limit: int
    ) -> list[ApiSessionRow]:
        at, sid = after if after is not None else (None, None)
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_SESSION_PAGE, course_id, at, sid, limit)
        return [_session(row) for row in rows]

    async def course_session(self, course_id: int, session_id: str) -> ApiSessionRow | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_SESSION, course_id, session_id)
        return _session(row) if row is not None else None

    async def record_page(
        self, course_id: int, *, session_id: str | None, after: RecordKey | None, limit: int
    ) -> list[ApiRecordRow]:
        at, sid, student = after if after is not None else (None, None, None)
        async with pg_guard():
            rows = await self._pool.fetch(
                SELECT_RECORD_PAGE, course_id, session_id, at, sid, student, limit
            )
        return [_record(row) for row in rows]

    async def course_cells(
        self, course_id: int
    ) -> list[tuple[int, list[str], list[AttendanceStatus]]]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_COURSE_CELLS, course_id)
        return [(r[0], r[1], [_STATUSES[x] for x in r[2]]) for r in rows]

    async def student_records(self, course_id: int, *, student_id: int) -> list[ApiRecordRow]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_STUDENT_RECORDS, course_id, student_id)
        return [_record(row) for row in rows]
