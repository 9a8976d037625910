"""A course's life after it is made: renamed, archived, students removed or leaving, a new
join code, a new teacher. Each change is checked here and audited by the store."""

from __future__ import annotations

import secrets

from services.clock import Clock
from services.codes import CodeGenerator, random_code
from services.corrections import AmbiguousStudent, StudentNotFound, match_students
from services.course_access import CourseAccess, Permission
from services.courses import COURSE_CODE_LENGTH, name_clashes
from services.errors import InvalidArgument
from services.models import Course, CourseAction, UserProfile
from services.ports import CourseAdmin, CourseRecords, LiveSessionStore, RosterPlaces
from services.ports.courses import Handover
from services.roles import RoleService
from services.session_options import clean_title

_DRAWS = 20


class CourseAdminService:
    """Rename, archive, remove, leave, new join code, transfer: refused to anyone else."""

    def __init__(
        self,
        *,
        courses: CourseRecords,
        admin: CourseAdmin,
        sessions: LiveSessionStore,
        places: RosterPlaces,
        roles: RoleService,
        access: CourseAccess,
        clock: Clock,
        code_generator: CodeGenerator = random_code,
    ) -> None:
        self._places = places
        self._courses = courses
        self._sessions = sessions
        self._admin = admin
        self._roles = roles
        self._access = access
        self._clock = clock
        self._new_code = code_generator

    async def _own_course(
        self, teacher_id: int, words: list[str], permission: Permission
    ) -> tuple[Course, int]:
        """The user's course named by the first words (archived ones too), if their role
        there allows `permission` (the owner's co-teachers may rename, not archive)."""
        await self._access.require_any(teacher_id, permission)
        return await self._access.find(teacher_id, words, permission)

    async def _reload(self, course_id: int) -> Course:
        course = await self._courses.course(course_id)
        assert course is not None
        return course

    async def rename(self, teacher_id: int, words: list[str]) -> tuple[str, Course]:
        """`<course> <new name>`: the old name and the renamed course (name rules as when
        it was made)."""
        course, used = await self._own_course(teacher_id, words, Permission.MANAGE)
        name = clean_title(" ".join(words[used:]))
        if not name:
            raise InvalidArgument("course_name", "missing")
        if name == course.name:
            return course.name, course
        if await name_clashes(self._courses, course.teacher_id, name, except_course=course.id):
            raise InvalidArgument("course_name", "taken")
        changed = await self._admin.rename_course(
            course.id, name=name, by=teacher_id, at=self._clock.now()
        )
        if not changed:
            raise InvalidArgument("course_name", "taken")
        return course.name, await self._reload(course.id)

    async def set_archived(self, teacher_id: int, words: list[str], *, archived: bool) -> Course:
        """Archive (no new sessions, hidden from choosers) or bring a course back."""
        course, _ = await self._own_course(teacher_id, words, Permission.ARCHIVE)
        changed = await self._admin.set_course_archived(
            course.id, archived=archived, by=teacher_id, at=self._clock.now()
        )
        if not changed:
            raise InvalidArgument("course", "archived" if archived else "not_archived")
        return await self._reload(course.id)

    async def remove_student(self, teacher_id: int, words: list[str]) -> tuple[Course, UserProfile]:
        """`<course> <student>`: the student leaves the roster; their records are kept."""
        course, used = await self._own_course(teacher_id, words, Permission.MANAGE)
        query = " ".join(words[used:])
        if not query:
            raise InvalidArgument("student", "missing")
        candidates = match_students(await self._courses.roster_profiles(course.id), query)
        if not candidates:
            raise StudentNotFound(query)
        if len(candidates) > 1:
            raise AmbiguousStudent(candidates)
        return await self._remove(course, candidates[0], by=teacher_id)

    async def remove_student_by_id(
        self, teacher_id: int, course_id: int, student_id: int
    ) -> tuple[Course, UserProfile]:
        """`remove_student` for a student picked by id (the teacher dashboard): the same
        permission, roster check and audit.

        Raises:
            NotATeacher, NotYours, NotPermitted, StudentNotFound.
        """
        course = await self._access.course(teacher_id, course_id, Permission.MANAGE)
        roster = await self._courses.roster_profiles(course.id)
        student = next((p for p in roster if p.user_id == student_id), None)
        if student is None:
            raise StudentNotFound("")
        return await self._remove(course, student, by=teacher_id)

    async def _remove(
        self, course: Course, student: UserProfile, *, by: int
    ) -> tuple[Course, UserProfile]:
        teacher_id = by
        if student.user_id < 0:  # an imported place nobody claimed: the place goes
            if await self._places.remove_place(
                course.id, stand_in=student.user_id, by=teacher_id, at=self._clock.now()
            ):
                await self._off_live_session(course, student.user_id)
            return await self._reload(course.id), student
        if await self._admin.unenrol(
            course.id,
            student_id=student.user_id,
            action=CourseAction.REMOVE_STUDENT,
            by=teacher_id,
            at=self._clock.now(),
        ):
            await self._off_live_session(course, student.user_id)
        return await self._reload(course.id), student

    async def leave(self, student_id: int, course_id: int) -> Course:
        """The student leaves a course they are in (their records are kept)."""
        course = await self._courses.course(course_id)
        if course is None or not await self._admin.unenrol(
            course_id,
            student_id=student_id,
            action=CourseAction.LEAVE,
            by=student_id,
            at=self._clock.now(),
        ):
            raise InvalidArgument("course", "not_enrolled")
        await self._off_live_session(course, student_id)
        return course

    async def _off_live_session(self, course: Course, student_id: int) -> None:
        """Off the roster of the course's open sessions too (started by its owner, a
        co-teacher or an assistant): not listed as missing, no absent row, no check-in from
        now on (one already made stays, like all their records)."""
        for starter in [course.teacher_id, *await self._access.staff_ids(course)]:
            session_id = await self._sessions.teacher_current_session(starter)
            if session_id is None:
                continue
            session = await self._sessions.session(session_id)
            if session is not None and session.course_id == course.id:
                await self._sessions.remove_from_roster(session_id, student_id)

    async def new_join_code(self, teacher_id: int, words: list[str]) -> Course:
        """A fresh join code and invite link; the old ones stop working at once."""
        course, _ = await self._own_course(teacher_id, words, Permission.MANAGE)
        for _ in range(_DRAWS):
            if await self._admin.replace_join_code(
                course.id,
                join_code=self._new_code(COURSE_CODE_LENGTH),
                invite_token=secrets.token_urlsafe(12),
                by=teacher_id,
                at=self._clock.now(),
            ):
                return await self._reload(course.id)
        raise RuntimeError("could not draw a free course code")

    async def transfer(
        self, admin_id: int, course_code: str, target: str
    ) -> tuple[int, Course, Handover]:
        """An admin gives the course (named by its join code) to another teacher; returns
        the previous teacher's id, the course and what went with the old owner: its API
        tokens revoked and its webhook removed (in the transfer's step, audited), since
        they hold the secrets. Nothing changes when the teacher owns it already.

        Raises:
            NotAnAdmin; InvalidArgument: unknown course or teacher, or the new teacher has a
            course by that name already.
        """
        await self._roles.require_admin(admin_id)
        course = await self._courses.course_by_join_code(course_code.strip().upper())
        if course is None:
            raise InvalidArgument("join_code", "unknown")
        teacher_id = await self._roles.resolve_user(target)
        if not await self._roles.is_teacher(teacher_id):
            raise InvalidArgument("teacher", "unknown")
        if teacher_id == course.teacher_id:
            return course.teacher_id, course, Handover()
        handover = await self._admin.transfer_course(
            course.id, teacher_id=teacher_id, by=admin_id, at=self._clock.now()
        )
        if handover is None:
            raise InvalidArgument("course_name", "taken_by_new_teacher")
        return course.teacher_id, await self._reload(course.id), handover


def active(courses: list[Course]) -> list[Course]:
    """The courses a chooser offers: archived ones are left out."""
    return [c for c in courses if not c.archived]
