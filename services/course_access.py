"""The one answer to "may user U do action A on course C" (issue 13: co-teachers and
assistants).

A course has one owner (its `teacher_id`, who must still be a teacher) and any number of
co-teachers and assistants, invited by the owner with one-time links (`services.staff`).
Every course check of the services goes through `CourseAccess`, so a role means the same in
every command, button, chooser and menu:

- owner: everything on the course;
- co-teacher: everything but archiving the course (ATTN's "delete"), managing its staff and
  its API tokens (transferring a course is for admins, as before);
- assistant: sees the course, starts and ends its sessions, marks attendance in them.

Staff need not be teachers: an assistant who is not in ATTN_TEACHER_IDS and was never made a
teacher by an admin uses exactly the teacher commands their roles allow, for those courses
only. Creating courses (`/new_course`) and sessions without a course stay with teachers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.errors import DomainError, InvalidArgument, NotATeacher, NotYours
from services.models import Course, CourseRole, Session
from services.ports import CourseRecords, CourseStaffRecords
from services.roles import RoleService


class Permission(StrEnum):
    """What can be done on a course; `GRANTS` says which role may do what."""

    VIEW = "view"  # the course in /courses, with its join code and link
    RUN_SESSIONS = "run_sessions"  # /start_session, /end_session, /extend, the card's buttons
    MARK = "mark"  # /mark on the course's sessions, their summaries
    REPORT = "report"  # /report, its files
    SETTINGS = "settings"  # /course_settings
    MANAGE = "manage"  # rename, new join code, remove a student
    ARCHIVE = "archive"  # archive and bring back: the owner's alone
    MANAGE_STAFF = "manage_staff"  # invite and remove co-teachers and assistants: the owner's
    # /api_tokens: make and revoke the course's REST API tokens: the owner's (and any admin's,
    # see services.api_tokens), since a token hands the course's records to another system.
    API_TOKENS = "api_tokens"


GRANTS: dict[CourseRole, frozenset[Permission]] = {
    CourseRole.OWNER: frozenset(Permission),
    CourseRole.CO_TEACHER: frozenset(Permission)
    - {Permission.ARCHIVE, Permission.MANAGE_STAFF, Permission.API_TOKENS},
    CourseRole.ASSISTANT: frozenset({Permission.VIEW, Permission.RUN_SESSIONS, Permission.MARK}),
}

#: What a teacher may do at all (on their own courses): everything.
TEACHER_PERMISSIONS = frozenset(Permission)


@dataclass
class NotPermitted(DomainError):
    """The user has a role in the course (or in some course), but not one that allows this."""

    role: CourseRole | None
    permission: Permission


@dataclass(frozen=True, slots=True)
class CourseWithRole:
    """A course and the user's part in it, as /courses lists them."""

    course: Course
    role: CourseRole


class CourseAccess:
    """Answers every per-course permission question; services ask it before acting."""

    def __init__(
        self, *, courses: CourseRecords, staff: CourseStaffRecords, roles: RoleService
    ) -> None:
        self._courses = courses
        self._staff = staff
        self._roles = roles

    @property
    def roles(self) -> RoleService:
        return self._roles

    async def role_in(self, user_id: int, course: Course) -> CourseRole | None:
        """The user's role in the course, None when they have none (an owner who is no
        longer a teacher has none either, as before co-teachers existed)."""
        if course.teacher_id == user_id:
            return CourseRole.OWNER if await self._roles.is_teacher(user_id) else None
        return await self._staff.staff_role(course.id, user_id=user_id)

    async def may(self, user_id: int, course: Course, permission: Permission) -> bool:
        role = await self.role_in(user_id, course)
        return role is not None and permission in GRANTS[role]

    async def require(self, user_id: int, course: Course, permission: Permission) -> CourseRole:
        """The user's role, when it allows `permission` on the course.

        Raises:
            NotYours: no role in the course, but a teacher (or staff of another course).
            NotATeacher: no role in any course and not a teacher (a student).
            NotPermitted: a role that does not allow this.
        """
        role = await self.role_in(user_id, course)
        if role is None:
            raise await self.refuse_stranger(user_id, "course")
        if permission not in GRANTS[role]:
            raise NotPermitted(role, permission)
        return role

    async def course_roles(self, user_id: int) -> list[CourseWithRole]:
        """Every course the user has a role in (archived ones too), by name."""
        owned = (
            await self._courses.teacher_courses(user_id)
            if await self._roles.is_teacher(user_id)
            else []
        )
        found = [CourseWithRole(c, CourseRole.OWNER) for c in owned]
        seen = {c.id for c in owned}
        found += [
            CourseWithRole(c, role)
            for c, role in await self._staff.staff_courses(user_id)
            if c.id not in seen
        ]
        found.sort(key=lambda item: (item.course.name.casefold(), item.course.id))
        return found

    async def courses(self, user_id: int, permission: Permission) -> list[Course]:
        """The courses on which the user may do `permission` (archived ones too)."""
        return [
            item.course
            for item in await self.course_roles(user_id)
            if permission in GRANTS[item.role]
        ]

    async def course(self, user_id: int, course_id: int, permission: Permission) -> Course:
        """A course by id (from a button, whose data can be forged), if the user may do
        `permission` on it.

        Raises:
            NotYours, NotATeacher, NotPermitted.
        """
        course = await self._courses.course(course_id)
        if course is None:
            raise await self.refuse_stranger(user_id, "course")
        await self.require(user_id, course, permission)
        return course

    async def find(
        self, user_id: int, words: list[str], permission: Permission
    ) -> tuple[Course, int]:
        """The course named by the first words (or its join code) among the user's, and how
        many words its name took.

        Raises:
            InvalidArgument: no course of theirs matches.
            NotPermitted: it matches a course whose role does not allow this.
        """
        roles = await self.course_roles(user_id)
        allowed = [i.course for i in roles if permission in GRANTS[i.role]]
        match = match_course(allowed, words)
        if match is not None:
            return match
        other = match_course([i.course for i in roles], words)
        if other is not None:
            role = next(i.role for i in roles if i.course.id == other[0].id)
            raise NotPermitted(role, permission)
        raise InvalidArgument("course", "unknown")

    async def refuse_stranger(self, user_id: int, what: str) -> NotATeacher:
        """The refusal of someone with no role in this course or session (`what`): "not
        yours" to a teacher or staff member, "only teachers" to anyone else."""
        return NotYours(what) if await self.permissions(user_id) else NotATeacher()

    async def permissions(self, user_id: int) -> frozenset[Permission]:
        """What the user may do on some course: a teacher everything (on their own), staff
        what their roles allow; for menus, /help and `require_any`."""
        if await self._roles.is_teacher(user_id):
            return TEACHER_PERMISSIONS
        granted: set[Permission] = set()
        for _, role in await self._staff.staff_courses(user_id):
            granted |= GRANTS[role]
        return frozenset(granted)

    async def require_any(self, user_id: int, permission: Permission) -> None:
        """The gate of a teacher command before a course is known: a teacher, or staff of
        some course that allows `permission`.

        Raises:
            NotATeacher: neither teacher nor staff anywhere.
            NotPermitted: staff, but no role of theirs allows this.
        """
        if await self._roles.is_teacher(user_id):
            return
        roles = {role for _, role in await self._staff.staff_courses(user_id)}
        if any(permission in GRANTS[role] for role in roles):
            return
        if not roles:
            raise NotATeacher()
        # One role everywhere: the refusal says what that role may do.
        raise NotPermitted(roles.pop() if len(roles) == 1 else None, permission)

    async def staff_ids(self, course: Course) -> list[int]:
        """The course's co-teachers and assistants (whoever may have a session open in it)."""
        return [m.profile.user_id for m in await self._staff.course_staff(course.id)]

    async def may_act_on_session(
        self, user_id: int, session: Session, permission: Permission
    ) -> bool:
        """The session's starter may act on it (a session without a course has no one
        else); for a course session, so may anyone whose role allows `permission`."""
        if session.teacher_id == user_id:
            return True
        if session.course_id is None:
            return False
        course = await self._courses.course(session.course_id)
        return course is not None and await self.may(user_id, course, permission)


def match_course(courses: list[Course], words: list[str]) -> tuple[Course, int] | None:
    """The course whose name is the longest prefix of `words` (case-insensitive), or whose
    join code is the first word; with the number of words used."""
    lowered = [w.lower() for w in words]
    best: tuple[Course, int] | None = None
    for course in courses:
        name_words = course.name.lower().split()
        size = len(name_words)
        if size and lowered[:size] == name_words and (best is None or size > best[1]):
            best = (course, size)
        if words and words[0].upper() == course.join_code and best is None:
            best = (course, 1)
    return best
