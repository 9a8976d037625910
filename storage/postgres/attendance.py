"""Saved attendance: course standings, per-session counts, exports and audited corrections."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.models import AttendanceStatus, ExportRow, StudentStanding
from storage.postgres.pool import pg_guard
from storage.postgres.rows import name_from_row, standing_from_row

# Per-student standing in a course: one attendance row per session the student was on the
# roster for (the sweep writes "absent" rows), so counting rows counts sessions.
COURSE_STANDINGS = """
WITH course_sessions AS (
    SELECT id FROM sessions WHERE course_id = $1
), people AS (
    SELECT e.student_id, true AS enrolled FROM enrolments e WHERE e.course_id = $1
    UNION ALL  -- imported places nobody claimed yet count like students (absent)
    SELECT stand_in, true FROM roster_places WHERE course_id = $1 AND stand_in IS NOT NULL
    UNION ALL
    -- Removed or left, with records kept: still in the report, marked (not a forgotten
    -- person's pseudonym, which is negative).
    SELECT DISTINCT a.student_id, false AS enrolled
    FROM attendance a
    WHERE a.session_id IN (SELECT id FROM course_sessions)
      AND a.student_id > 0
      AND NOT EXISTS (
          SELECT 1 FROM enrolments e WHERE e.course_id = $1 AND e.student_id = a.student_id
      )
)
SELECT p.student_id, p.enrolled,
       u.full_name, u.first_name, u.last_name, u.username, u.student_number,
       count(a.session_id) AS sessions,
       count(*) FILTER (WHERE a.status = 'present') AS present,
       count(*) FILTER (WHERE a.status = 'late') AS late,
       count(*) FILTER (WHERE a.status = 'excused') AS excused,
       count(*) FILTER (WHERE a.status = 'absent') AS absent
FROM people p
LEFT JOIN users u ON u.id = p.student_id
LEFT JOIN attendance a
       ON a.student_id = p.student_id
      AND a.session_id IN (SELECT id FROM course_sessions)
GROUP BY p.student_id, p.enrolled,
         u.full_name, u.first_name, u.last_name, u.username, u.student_number
ORDER BY p.enrolled DESC, lower(coalesce(u.full_name, u.first_name, '')), p.student_id
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

SELECT_EXPORT = """
SELECT s.id AS session_id, s.title, s.teacher_id, a.student_id, a.status, a.checked_in_at,
       u.full_name, u.first_name, u.last_name, u.username
FROM attendance a
JOIN sessions s ON s.id = a.session_id
LEFT JOIN users u ON u.id = a.student_id
WHERE ($1::text IS NULL OR s.id = $1)
ORDER BY s.started_at, s.id, a.checked_in_at NULLS LAST, a.student_id
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


class PostgresAttendanceRecords:
    """`AttendanceRecords` over PostgreSQL: reports, exports and corrections with an audit trail."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def course_standings(self, course_id: int) -> list[StudentStanding]:
        async with pg_guard():
            rows = await self._pool.fetch(COURSE_STANDINGS, course_id)
        return [standing_from_row(row) for row in rows]

    async def course_sessions(
        self, course_id: int
    ) -> list[tuple[str, str, datetime, int, int, int, int, int]]:
        """Per session: id, title, start, attended, counted, late, absent, excused."""
        async with pg_guard():
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

    async def export_rows(self, session_id: str | None) -> list[ExportRow]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_EXPORT, session_id)
        return [
            ExportRow(
                session_id=row["session_id"],
                session_title=row["title"],
                teacher_id=row["teacher_id"],
                student_id=row["student_id"],
                student_name=name_from_row(row, row["student_id"]),
                checked_in_at=row["checked_in_at"],
                status=AttendanceStatus(row["status"]),
            )
            for row in rows
        ]

    async def correct_status(
        self,
        session_id: str,
        student_id: int,
        *,
        status: AttendanceStatus,
        changed_by: int,
        now: datetime,
    ) -> AttendanceStatus | None:
        """Change a stored record and audit it in one transaction; returns the old status."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
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
        *,
        changed_by: int,
        now: datetime,
        old: AttendanceStatus | None,
        new: AttendanceStatus,
    ) -> int:
        """Audit a correction of a live session before it is made; returns the row's id."""
        async with pg_guard():
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
        async with pg_guard():
            await self._pool.execute(DELETE_AUDIT, audit_id)
