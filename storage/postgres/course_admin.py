"""Course lifecycle: rename, archive, roster removal, new join code, transfer; each audited.
A transfer revokes the course's API tokens and removes its webhook in its transaction."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.models import CourseAction, CourseChange
from services.ports.courses import Handover
from storage.postgres.api import revoke_course_tokens
from storage.postgres.pool import pg_guard
from storage.postgres.webhooks import remove_course_webhook

AUDIT = """
INSERT INTO course_audit (course_id, changed_by, changed_at, action, old_value, new_value)
VALUES ($1, $2, $3, $4, $5, $6)
"""

# Each change locks the course row, reads the old value and writes the new one; a unique
# violation (a name or code taken meanwhile) rolls the whole step back.
LOCK = "SELECT name, join_code, teacher_id, archived_at FROM courses WHERE id = $1 FOR UPDATE"
RENAME = "UPDATE courses SET name = $2 WHERE id = $1"
SET_ARCHIVED = "UPDATE courses SET archived_at = $2 WHERE id = $1"
REPLACE_CODE = "UPDATE courses SET join_code = $2, invite_token = $3 WHERE id = $1"
TRANSFER = "UPDATE courses SET teacher_id = $2 WHERE id = $1"
UNENROL = "DELETE FROM enrolments WHERE course_id = $1 AND student_id = $2"
SELECT_CHANGES = """
SELECT course_id, changed_by, changed_at, action, old_value, new_value
FROM course_audit WHERE course_id = $1 ORDER BY id
"""


class PostgresCourseAdmin:
    """`CourseAdmin` over PostgreSQL: each change and its audit row in one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def rename_course(self, course_id: int, *, name: str, by: int, at: datetime) -> bool:
        """False when the course is gone or the teacher has another course by that name."""
        async with pg_guard(), self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(LOCK, course_id)
                    if row is None:
                        return False
                    await conn.execute(RENAME, course_id, name)
                    await conn.execute(
                        AUDIT, course_id, by, at, CourseAction.RENAME.value, row["name"], name
                    )
            except asyncpg.UniqueViolationError:
                return False
        return True

    async def set_course_archived(
        self, course_id: int, *, archived: bool, by: int, at: datetime
    ) -> bool:
        """False when the course is gone or already in that state (nothing audited)."""
        action = CourseAction.ARCHIVE if archived else CourseAction.UNARCHIVE
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(LOCK, course_id)
            if row is None or (row["archived_at"] is not None) == archived:
                return False
            await conn.execute(SET_ARCHIVED, course_id, at if archived else None)
            await conn.execute(AUDIT, course_id, by, at, action.value, None, None)
        return True

    async def unenrol(
        self, course_id: int, *, student_id: int, action: CourseAction, by: int, at: datetime
    ) -> bool:
        """False when the student was not enrolled; their attendance records stay."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            status: str = await conn.execute(UNENROL, course_id, student_id)
            if not status.endswith(" 1"):
                return False
            await conn.execute(AUDIT, course_id, by, at, action.value, str(student_id), None)
        return True

    async def replace_join_code(
        self, course_id: int, *, join_code: str, invite_token: str, by: int, at: datetime
    ) -> bool:
        """False when the course is gone or the new code or token collided (draw again)."""
        async with pg_guard(), self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(LOCK, course_id)
                    if row is None:
                        return False
                    await conn.execute(REPLACE_CODE, course_id, join_code, invite_token)
                    await conn.execute(
                        AUDIT,
                        course_id,
                        by,
                        at,
                        CourseAction.NEW_JOIN_CODE.value,
                        row["join_code"],
                        join_code,
                    )
            except asyncpg.UniqueViolationError:
                return False
        return True

    async def transfer_course(
        self, course_id: int, *, teacher_id: int, by: int, at: datetime
    ) -> Handover | None:
        """None when the course is gone or the new teacher has a course by its name."""
        async with pg_guard(), self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(LOCK, course_id)
                    if row is None:
                        return None
                    await conn.execute(TRANSFER, course_id, teacher_id)
                    await conn.execute(
                        AUDIT,
                        course_id,
                        by,
                        at,
                        CourseAction.TRANSFER.value,
                        str(row["teacher_id"]),
                        str(teacher_id),
                    )
                    handover = Handover(
                        tokens_revoked=await revoke_course_tokens(conn, course_id, by=by, at=at),
                        webhook_removed=await remove_course_webhook(conn, course_id, by=by, now=at),
                    )
            except asyncpg.UniqueViolationError:
                return None
        return handover

    async def course_changes(self, course_id: int) -> list[CourseChange]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_CHANGES, course_id)
        return [
            CourseChange(
                course_id=row["course_id"],
                changed_by=row["changed_by"],
                changed_at=row["changed_at"],
                action=CourseAction(row["action"]),
                old_value=row["old_value"],
                new_value=row["new_value"],
            )
            for row in rows
        ]
