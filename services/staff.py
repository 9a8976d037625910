"""A course's co-teachers and assistants: the owner invites them with one-time links, lists
and removes them (who may then do what is `services.course_access`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from services.clock import Clock
from services.course_access import CourseAccess, Permission
from services.errors import DomainError, InvalidArgument
from services.models import Course, CourseRole, StaffMember, UserProfile
from services.ports import CourseRecords, CourseStaffRecords
from services.roles import hash_token

#: A staff link is `t.me/<bot>?start=staff_<token>` (64 characters at most, Telegram's limit).
STAFF_INVITE_PREFIX = "staff_"
#: A week: long enough to reach a colleague by e-mail, short enough not to linger.
STAFF_INVITE_DAYS = 7
#: The roles a link can give (the owner is the course's teacher, never invited).
INVITABLE = (CourseRole.CO_TEACHER, CourseRole.ASSISTANT)


class BadStaffLink(DomainError):
    """The staff link is unknown, used already or expired."""


@dataclass
class OwnCourseLink(DomainError):
    """The course's owner opened a staff link of their own course (it stays unused)."""

    course: Course


@dataclass(frozen=True, slots=True)
class StaffListing:
    """What /staff shows: the course, its owner and its co-teachers and assistants."""

    course: Course
    members: list[StaffMember]


@dataclass(frozen=True, slots=True)
class Joined:
    """A staff link accepted: the course, the role it gave, and who had sent it."""

    course: Course
    role: CourseRole
    invited_by: int


class StaffService:
    """Invite, accept, list and remove a course's staff; only its owner manages them."""

    def __init__(
        self,
        *,
        access: CourseAccess,
        staff: CourseStaffRecords,
        courses: CourseRecords,
        clock: Clock,
    ) -> None:
        self._access = access
        self._staff = staff
        self._courses = courses
        self._clock = clock

    async def manageable_courses(self, user_id: int) -> list[Course]:
        """The courses whose staff the user manages (their own).

        Raises:
            NotATeacher, NotPermitted: not a teacher, or only another owner's staff.
        """
        await self._access.require_any(user_id, Permission.MANAGE_STAFF)
        return await self._access.courses(user_id, Permission.MANAGE_STAFF)

    async def find_course(self, user_id: int, words: list[str]) -> Course:
        """The user's own course named by the words (InvalidArgument, NotPermitted)."""
        await self._access.require_any(user_id, Permission.MANAGE_STAFF)
        course, _ = await self._access.find(user_id, words, Permission.MANAGE_STAFF)
        return course

    async def listing(self, user_id: int, course_id: int) -> StaffListing:
        """The course's staff, for its owner (button data is checked again)."""
        course = await self._access.course(user_id, course_id, Permission.MANAGE_STAFF)
        return StaffListing(course, await self._staff.course_staff(course.id))

    async def invite(self, user_id: int, course_id: int, role: CourseRole) -> tuple[Course, str]:
        """A one-time link token giving `role` in the course, valid `STAFF_INVITE_DAYS`;
        only its hash is stored.

        Raises:
            NotATeacher, NotYours, NotPermitted; InvalidArgument: a role no link gives.
        """
        course = await self._access.course(user_id, course_id, Permission.MANAGE_STAFF)
        if role not in INVITABLE:
            raise InvalidArgument("role", "unknown")
        token = secrets.token_urlsafe(24)
        now = self._clock.now()
        await self._staff.create_staff_invite(
            hash_token(token),
            course_id=course.id,
            role=role,
            created_by=user_id,
            now=now,
            expires_at=now + timedelta(days=STAFF_INVITE_DAYS),
        )
        return course, token

    async def accept(self, profile: UserProfile, token: str) -> Joined:
        """Spend the link: the user gets its role in its course (a role they had there is
        replaced). A link works once; its course's owner cannot spend it.

        Raises:
            BadStaffLink: unknown, used or expired.
            OwnCourseLink: the owner opened it (it stays usable for the person invited).
        """
        if not token or len(token) > 64:
            raise BadStaffLink()
        hashed = hash_token(token)
        now = self._clock.now()
        offered = await self._staff.staff_invite(hashed, now)
        if offered is None:
            raise BadStaffLink()
        course = await self._courses.course(offered.course_id)
        if course is None:
            raise BadStaffLink()
        if course.teacher_id == profile.user_id:
            raise OwnCourseLink(course)
        used = await self._staff.use_staff_invite(hashed, profile=profile, now=now)
        if used is None:  # spent by someone else a moment ago
            raise BadStaffLink()
        return Joined(course, used.role, used.created_by)

    async def remove(
        self, user_id: int, course_id: int, member_id: int
    ) -> tuple[Course, StaffMember | None]:
        """Take the member off the course's staff (audited); None when they were not on it
        any more (a double tap)."""
        course = await self._access.course(user_id, course_id, Permission.MANAGE_STAFF)
        members = await self._staff.course_staff(course.id)
        member = next((m for m in members if m.profile.user_id == member_id), None)
        if member is None:
            return course, None
        removed = await self._staff.remove_staff(
            course.id, user_id=member_id, by=user_id, at=self._clock.now()
        )
        return course, member if removed else None
