"""Courses, their join codes and invite links, and their rosters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.models import (
    Course,
    CourseAction,
    CourseChange,
    CourseRole,
    StaffInvite,
    StaffMember,
    UserProfile,
)


@dataclass(frozen=True, slots=True)
class Handover:
    """What a course's transfer switched off with it: the former owner's integrations, whose
    secrets they still hold (each revocation and the webhook's removal audited as /api_tokens
    and /webhook audit them, by the admin, in the transfer's transaction)."""

    tokens_revoked: int = 0
    webhook_removed: bool = False


class CourseRecords(Protocol):
    """A teacher's courses and who is enrolled in each."""

    async def create_course(
        self, teacher_id: int, *, name: str, join_code: str, invite_token: str
    ) -> Course | None: ...
    async def course_name_taken(self, teacher_id: int, name: str) -> bool: ...
    async def course(self, course_id: int) -> Course | None: ...
    async def course_by_join_code(self, join_code: str) -> Course | None: ...
    async def course_by_invite(self, invite_token: str) -> Course | None: ...
    async def teacher_courses(self, teacher_id: int) -> list[Course]: ...
    async def student_courses(self, student_id: int) -> list[Course]: ...
    async def update_course_settings(
        self,
        course_id: int,
        *,
        late_after_minutes: int,
        warn_below_percent: int,
        time_zone: str | None,
    ) -> None: ...
    async def enrol(self, course_id: int, profile: UserProfile) -> bool: ...
    async def roster(self, course_id: int) -> list[int]: ...
    async def roster_profiles(self, course_id: int) -> list[UserProfile]: ...


class CourseAdmin(Protocol):
    """Changes to a course after it is made, each written with its audit row in one step.

    `by` is who changed it and `at` when; the old value is read in the same transaction, so
    the audit row says exactly what was replaced.
    """

    async def rename_course(self, course_id: int, *, name: str, by: int, at: datetime) -> bool: ...
    async def set_course_archived(
        self, course_id: int, *, archived: bool, by: int, at: datetime
    ) -> bool: ...
    async def unenrol(
        self, course_id: int, *, student_id: int, action: CourseAction, by: int, at: datetime
    ) -> bool: ...
    async def replace_join_code(
        self, course_id: int, *, join_code: str, invite_token: str, by: int, at: datetime
    ) -> bool: ...
    async def transfer_course(
        self, course_id: int, *, teacher_id: int, by: int, at: datetime
    ) -> Handover | None:
        """None when refused (no such course, or the new teacher has one by its name). Else
        the course's API tokens still in force are revoked and its webhook removed with it:
        the former owner holds their secrets."""
        ...

    async def course_changes(self, course_id: int) -> list[CourseChange]: ...


class CourseStaffRecords(Protocol):
    """Co-teachers and assistants of courses, and the one-time links that make them.

    Joining and removal are written with their `course_audit` row in one step.
    """

    async def staff_role(self, course_id: int, *, user_id: int) -> CourseRole | None: ...
    async def staff_courses(self, user_id: int) -> list[tuple[Course, CourseRole]]: ...
    async def course_staff(self, course_id: int) -> list[StaffMember]: ...
    async def create_staff_invite(
        self,
        token_hash: str,
        *,
        course_id: int,
        role: CourseRole,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None: ...
    async def staff_invite(self, token_hash: str, now: datetime) -> StaffInvite | None: ...
    async def use_staff_invite(
        self, token_hash: str, *, profile: UserProfile, now: datetime
    ) -> StaffInvite | None: ...
    async def remove_staff(
        self, course_id: int, *, user_id: int, by: int, at: datetime
    ) -> bool: ...
