"""In-memory `CourseStaffRecords`: co-teachers, assistants and their one-time links."""

from __future__ import annotations

from datetime import datetime

from services.models import Course, CourseAction, CourseRole, StaffInvite, StaffMember, UserProfile
from tests.fakes.memory.courses import MemoryCourseRecords
from tests.fakes.memory.database import (
    CourseAuditRow,
    MemoryDatabase,
    StaffInviteRow,
    StaffRow,
)
from tests.fakes.memory.users import upsert_profiles


class MemoryCourseStaff:
    """Links spent once, before they expire, never by the course's owner; audited changes."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._courses = MemoryCourseRecords(db)

    async def staff_role(self, course_id: int, *, user_id: int) -> CourseRole | None:
        self._db.check()
        row = self._db.course_staff.get((course_id, user_id))
        return CourseRole(row.role) if row else None

    async def staff_courses(self, user_id: int) -> list[tuple[Course, CourseRole]]:
        db = self._db
        db.check()
        found = [
            (db.courses[c], CourseRole(row.role))
            for (c, u), row in db.course_staff.items()
            if u == user_id
        ]
        found.sort(key=lambda pair: pair[0].name)
        return [(self._courses._course(c), role) for c, role in found]

    async def course_staff(self, course_id: int) -> list[StaffMember]:
        db = self._db
        db.check()
        rows = sorted(
            ((u, row) for (c, u), row in db.course_staff.items() if c == course_id),
            key=lambda pair: (pair[1].added_at, pair[0]),
        )
        members = []
        for user_id, row in rows:
            user = db.users.get(user_id)
            profile = UserProfile(
                user_id=user_id,
                first_name=user.first_name if user else "",
                last_name=user.last_name if user else None,
                username=user.username if user else None,
                full_name=user.full_name if user else None,
            )
            members.append(StaffMember(profile, CourseRole(row.role), row.added_at))
        return members

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
        db = self._db
        db.check()
        if token_hash in db.course_staff_invites or course_id not in db.courses:
            raise KeyError(f"staff invite {token_hash!r} refused")  # primary / foreign key
        db.course_staff_invites[token_hash] = StaffInviteRow(
            course_id, role.value, created_by, now, expires_at
        )

    def _valid(self, token_hash: str, now: datetime) -> StaffInviteRow | None:
        row = self._db.course_staff_invites.get(token_hash)
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        return row

    async def staff_invite(self, token_hash: str, now: datetime) -> StaffInvite | None:
        self._db.check()
        row = self._valid(token_hash, now)
        return StaffInvite(row.course_id, CourseRole(row.role), row.created_by) if row else None

    async def use_staff_invite(
        self, token_hash: str, *, profile: UserProfile, now: datetime
    ) -> StaffInvite | None:
        db = self._db
        db.check()
        user_id = profile.user_id
        row = self._valid(token_hash, now)
        if row is None or db.courses[row.course_id].teacher_id == user_id:
            return None
        row.used_by, row.used_at = user_id, now
        upsert_profiles(db, [profile])
        old = db.course_staff.get((row.course_id, user_id))
        db.course_staff[(row.course_id, user_id)] = StaffRow(row.role, row.created_by, now)
        db.course_audit[next(db.course_audit_ids)] = CourseAuditRow(
            row.course_id,
            user_id,
            now,
            CourseAction.ADD_STAFF.value,
            old.role if old else None,
            row.role,
        )
        return StaffInvite(row.course_id, CourseRole(row.role), row.created_by)

    async def remove_staff(self, course_id: int, *, user_id: int, by: int, at: datetime) -> bool:
        db = self._db
        db.check()
        row = db.course_staff.pop((course_id, user_id), None)
        if row is None:
            return False
        db.course_audit[next(db.course_audit_ids)] = CourseAuditRow(
            course_id, by, at, CourseAction.REMOVE_STAFF.value, f"{user_id} {row.role}", None
        )
        return True
