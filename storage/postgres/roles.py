"""Teachers named in the database, and the one-time links that make them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.models import UserProfile
from storage.postgres.pool import pg_guard

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


class PostgresRoleRecords:
    """`RoleRecords` over PostgreSQL: teachers and teacher invitations."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def is_teacher(self, user_id: int) -> bool:
        async with pg_guard():
            return bool(await self._pool.fetchval(IS_TEACHER, user_id))

    async def teachers(self) -> list[UserProfile]:
        async with pg_guard():
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
        self, token_hash: str, *, created_by: int, now: datetime, expires_at: datetime
    ) -> None:
        async with pg_guard():
            await self._pool.execute(INSERT_INVITE, token_hash, created_by, now, expires_at)

    async def use_teacher_invite(self, token_hash: str, user_id: int, now: datetime) -> bool:
        """Spend a valid, unused, unexpired invitation and make the user a teacher, at once."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            creator = await conn.fetchval(USE_INVITE, token_hash, user_id, now)
            if creator is None:
                return False
            await conn.execute(INSERT_TEACHER, user_id, creator)
        return True

    async def remove_teacher(self, user_id: int) -> bool:
        async with pg_guard():
            status: str = await self._pool.execute(DELETE_TEACHER, user_id)
        return status.endswith(" 1")
