"""Courses, their join codes and invite links, and their rosters."""

from __future__ import annotations

import asyncpg

from services.models import Course, UserProfile
from storage.postgres.pool import pg_guard
from storage.postgres.rows import course_from_row, profile_from_row
from storage.postgres.users import upsert_profiles_on

INSERT_COURSE = """
INSERT INTO courses (teacher_id, name, join_code, invite_token)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING id
"""

COURSE_COLUMNS = """
c.id, c.teacher_id, c.name, c.join_code, c.invite_token, c.late_after_minutes,
c.warn_below_percent, c.time_zone, c.archived_at,
(SELECT count(*) FROM enrolments e WHERE e.course_id = c.id)
  + (SELECT count(*) FROM roster_places p WHERE p.course_id = c.id AND p.stand_in IS NOT NULL)
  AS roster_size
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
UPDATE courses SET late_after_minutes = $2, warn_below_percent = $3, time_zone = $4
WHERE id = $1
"""

ENROL = """
INSERT INTO enrolments (course_id, student_id) VALUES ($1, $2)
ON CONFLICT (course_id, student_id) DO NOTHING
"""

# The roster: enrolled students and the stand-ins of imported places nobody claimed yet
# (sessions record those absent, see storage/postgres/roster.py).
SELECT_ROSTER = """
SELECT student_id FROM enrolments WHERE course_id = $1
UNION ALL
SELECT stand_in FROM roster_places WHERE course_id = $1 AND stand_in IS NOT NULL
"""

SELECT_ROSTER_PROFILES = """
SELECT u.id, u.first_name, u.last_name, u.username, u.full_name, u.student_number, u.last_seen
FROM (SELECT student_id FROM enrolments WHERE course_id = $1
      UNION ALL
      SELECT stand_in FROM roster_places WHERE course_id = $1 AND stand_in IS NOT NULL) e
JOIN users u ON u.id = e.student_id
"""


class PostgresCourseRecords:
    """`CourseRecords` over PostgreSQL: a teacher's courses and who is enrolled in each."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_course(
        self, teacher_id: int, *, name: str, join_code: str, invite_token: str
    ) -> Course | None:
        """Insert a course; None when the join code or invite token collided (draw again)."""
        async with pg_guard():
            course_id = await self._pool.fetchval(
                INSERT_COURSE, teacher_id, name, join_code, invite_token
            )
        return await self.course(course_id) if course_id is not None else None

    async def course_name_taken(self, teacher_id: int, name: str) -> bool:
        async with pg_guard():
            return bool(await self._pool.fetchval(COURSE_NAME_TAKEN, teacher_id, name))

    async def course(self, course_id: int) -> Course | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE, course_id)
        return course_from_row(row) if row else None

    async def course_by_join_code(self, join_code: str) -> Course | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE_BY_CODE, join_code)
        return course_from_row(row) if row else None

    async def course_by_invite(self, invite_token: str) -> Course | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_COURSE_BY_INVITE, invite_token)
        return course_from_row(row) if row else None

    async def teacher_courses(self, teacher_id: int) -> list[Course]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_TEACHER_COURSES, teacher_id)
        return [course_from_row(row) for row in rows]

    async def student_courses(self, student_id: int) -> list[Course]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_STUDENT_COURSES, student_id)
        return [course_from_row(row) for row in rows]

    async def update_course_settings(
        self,
        course_id: int,
        *,
        late_after_minutes: int,
        warn_below_percent: int,
        time_zone: str | None,
    ) -> None:
        """Store all three settings (`time_zone` None: the installation's zone)."""
        async with pg_guard():
            await self._pool.execute(
                UPDATE_COURSE_SETTINGS,
                course_id,
                late_after_minutes,
                warn_below_percent,
                time_zone,
            )

    async def enrol(self, course_id: int, profile: UserProfile) -> bool:
        """Enrol the student (and store their profile); False when already enrolled."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            await upsert_profiles_on(conn, [profile])
            status: str = await conn.execute(ENROL, course_id, profile.user_id)
        return status.endswith(" 1")

    async def roster(self, course_id: int) -> list[int]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_ROSTER, course_id)
        return [row["student_id"] for row in rows]

    async def roster_profiles(self, course_id: int) -> list[UserProfile]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_ROSTER_PROFILES, course_id)
        return [profile_from_row(row) for row in rows]
