"""In-memory `CourseRecords`: courses, join codes, invite links and rosters."""

from __future__ import annotations

from services.models import Course, UserProfile
from tests.fakes.memory.database import CourseRow, MemoryDatabase, now
from tests.fakes.memory.users import upsert_profiles


class MemoryCourseRecords:
    """A teacher's courses (unique name per teacher, unique codes) and their rosters."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def _course(self, row: CourseRow) -> Course:
        return Course(
            id=row.id,
            teacher_id=row.teacher_id,
            name=row.name,
            join_code=row.join_code,
            invite_token=row.invite_token,
            late_after_minutes=row.late_after_minutes,
            warn_below_percent=row.warn_below_percent,
            roster_size=self._db.roster_size(row.id),
            time_zone=row.time_zone,
            archived=row.archived_at is not None,
        )

    async def create_course(
        self, teacher_id: int, *, name: str, join_code: str, invite_token: str
    ) -> Course | None:
        db = self._db
        db.check()
        course_id = next(db.course_ids)  # bigserial: drawn even when the insert conflicts
        for c in db.courses.values():
            if (
                c.join_code == join_code
                or c.invite_token == invite_token
                or (c.teacher_id, c.name) == (teacher_id, name)
            ):
                return None
        row = CourseRow(course_id, teacher_id, name, join_code, invite_token)
        db.courses[course_id] = row
        return self._course(row)

    async def course_name_taken(self, teacher_id: int, name: str) -> bool:
        self._db.check()
        return any((c.teacher_id, c.name) == (teacher_id, name) for c in self._db.courses.values())

    async def course(self, course_id: int) -> Course | None:
        self._db.check()
        row = self._db.courses.get(course_id)
        return self._course(row) if row else None

    async def course_by_join_code(self, join_code: str) -> Course | None:
        self._db.check()
        rows = [c for c in self._db.courses.values() if c.join_code == join_code]
        return self._course(rows[0]) if rows else None

    async def course_by_invite(self, invite_token: str) -> Course | None:
        self._db.check()
        rows = [c for c in self._db.courses.values() if c.invite_token == invite_token]
        return self._course(rows[0]) if rows else None

    async def teacher_courses(self, teacher_id: int) -> list[Course]:
        self._db.check()
        rows = [c for c in self._db.courses.values() if c.teacher_id == teacher_id]
        # ORDER BY name under the C.UTF-8 collation: code point order, as Python sorts.
        return [self._course(c) for c in sorted(rows, key=lambda c: c.name)]

    async def student_courses(self, student_id: int) -> list[Course]:
        db = self._db
        db.check()
        rows = [db.courses[c] for c, s in db.enrolments if s == student_id]
        return [self._course(c) for c in sorted(rows, key=lambda c: c.name)]

    async def update_course_settings(
        self,
        course_id: int,
        *,
        late_after_minutes: int,
        warn_below_percent: int,
        time_zone: str | None,
    ) -> None:
        self._db.check()
        row = self._db.courses.get(course_id)
        if row is not None:
            row.late_after_minutes = late_after_minutes
            row.warn_below_percent = warn_below_percent
            row.time_zone = time_zone

    async def enrol(self, course_id: int, profile: UserProfile) -> bool:
        db = self._db
        db.check()
        upsert_profiles(db, [profile])
        if (course_id, profile.user_id) in db.enrolments:
            return False
        db.enrolments[(course_id, profile.user_id)] = now()
        return True

    async def roster(self, course_id: int) -> list[int]:
        self._db.check()
        return self._db.members(course_id)

    async def roster_profiles(self, course_id: int) -> list[UserProfile]:
        db = self._db
        db.check()
        return [db.users[s] for s in db.members(course_id) if s in db.users]
