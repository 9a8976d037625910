"""Co-teachers and assistants of courses, and the one-time links that make them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.models import Course, CourseAction, CourseRole, StaffInvite, StaffMember, UserProfile
from storage.postgres.courses import COURSE_COLUMNS
from storage.postgres.pool import pg_guard
from storage.postgres.rows import course_from_row
from storage.postgres.users import upsert_profiles_on

SELECT_ROLE = "SELECT role FROM course_staff WHERE course_id = $1 AND user_id = $2"

SELECT_STAFF_COURSES = (
    f"SELECT {COURSE_COLUMNS}, s.role AS staff_role FROM course_staff s "  # noqa: S608
    "JOIN courses c ON c.id = s.course_id WHERE s.user_id = $1 ORDER BY c.name"
)

SELECT_COURSE_STAFF = """
SELECT s.user_id, s.role, s.added_at, u.first_name, u.last_name, u.username, u.full_name
FROM course_staff s LEFT JOIN users u ON u.id = s.user_id
WHERE s.course_id = $1 ORDER BY s.added_at, s.user_id
"""

INSERT_INVITE = """
INSERT INTO course_staff_invites (token_hash, course_id, role, created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""

SELECT_INVITE = """
SELECT course_id, role, created_by FROM course_staff_invites
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
"""

# Spent in the same statement that checks it, so of two uses at once exactly one wins; the
# course's owner cannot spend it (they have every right already).
USE_INVITE = """
UPDATE course_staff_invites i SET used_by = $2, used_at = $3
WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > $3
  AND NOT EXISTS (SELECT 1 FROM courses c WHERE c.id = i.course_id AND c.teacher_id = $2)
RETURNING i.course_id, i.role, i.created_by
"""

# The role a staff member had before (NULL when new), read before the upsert replaces it.
OLD_ROLE = "SELECT role FROM course_staff WHERE course_id = $1 AND user_id = $2 FOR UPDATE"

UPSERT_STAFF = """
INSERT INTO course_staff (course_id, user_id, role, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (course_id, user_id) DO UPDATE SET role = EXCLUDED.role,
    added_by = EXCLUDED.added_by, added_at = EXCLUDED.added_at
"""

DELETE_STAFF = "DELETE FROM course_staff WHERE course_id = $1 AND user_id = $2 RETURNING role"

AUDIT = """
INSERT INTO course_audit (course_id, changed_by, changed_at, action, old_value, new_value)
VALUES ($1, $2, $3, $4, $5, $6)
"""


class PostgresCourseStaff:
    """`CourseStaffRecords` over PostgreSQL: staff roles, their invitations and audit rows."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def staff_role(self, course_id: int, *, user_id: int) -> CourseRole | None:
        async with pg_guard():
            role = await self._pool.fetchval(SELECT_ROLE, course_id, user_id)
        return CourseRole(role) if role is not None else None

    async def staff_courses(self, user_id: int) -> list[tuple[Course, CourseRole]]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_STAFF_COURSES, user_id)
        return [(course_from_row(row), CourseRole(row["staff_role"])) for row in rows]

    async def course_staff(self, course_id: int) -> list[StaffMember]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_COURSE_STAFF, course_id)
        return [
            StaffMember(
                profile=UserProfile(
                    user_id=row["user_id"],
                    first_name=row["first_name"] or "",
                    last_name=row["last_name"],
                    username=row["username"],
                    full_name=row["full_name"],
                ),
                role=CourseRole(row["role"]),
                added_at=row["added_at"],
            )
            for row in rows
        ]

    async def create_staff_invite(
        self,
        token_hash: str,
        *,
        course_id: int,
        role: CourseRole,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        async with pg_guard():
            await self._pool.execute(
                INSERT_INVITE, token_hash, course_id, role.value, created_by, now, expires_at
            )

    async def staff_invite(self, token_hash: str, now: datetime) -> StaffInvite | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_INVITE, token_hash, now)
        if row is None:
            return None
        return StaffInvite(row["course_id"], CourseRole(row["role"]), row["created_by"])

    async def use_staff_invite(
        self, token_hash: str, *, profile: UserProfile, now: datetime
    ) -> StaffInvite | None:
        """Spend the link and give its role, audited, in one transaction; None when the link
        is unknown, used, expired, or the user owns the course."""
        user_id = profile.user_id
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(USE_INVITE, token_hash, user_id, now)
            if row is None:
                return None
            invite = StaffInvite(row["course_id"], CourseRole(row["role"]), row["created_by"])
            await upsert_profiles_on(conn, [profile])
            old = await conn.fetchval(OLD_ROLE, invite.course_id, user_id)
            await conn.execute(
                UPSERT_STAFF, invite.course_id, user_id, invite.role.value, invite.created_by, now
            )
            await conn.execute(
                AUDIT,
                invite.course_id,
                user_id,
                now,
                CourseAction.ADD_STAFF.value,
                old,
                invite.role.value,
            )
        return invite

    async def remove_staff(self, course_id: int, *, user_id: int, by: int, at: datetime) -> bool:
        """False when the user was not staff of the course (nothing audited)."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            role = await conn.fetchval(DELETE_STAFF, course_id, user_id)
            if role is None:
                return False
            await conn.execute(
                AUDIT,
                course_id,
                by,
                at,
                CourseAction.REMOVE_STAFF.value,
                f"{user_id} {role}",
                None,
            )
        return True
