"""CourseAccess: what each role may do on a course, and nothing on anyone else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.course_access import GRANTS, CourseAccess, NotPermitted, Permission
from services.errors import InvalidArgument, NotATeacher
from services.models import Course, CourseRole, UserProfile
from services.ports import RecordStores
from services.roles import RoleService
from tests.fakes.memory import memory_record_stores

OWNER, OTHER_TEACHER, CO, ASSIST, STUDENT = 1, 2, 10, 11, 20
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _setup() -> tuple[RecordStores, CourseAccess, Course]:
    records = memory_record_stores()
    roles = RoleService([OWNER, OTHER_TEACHER], [], roles=records.roles, users=records.users)
    access = CourseAccess(courses=records.courses, staff=records.staff, roles=roles)
    course = await records.courses.create_course(
        OWNER, name="Math 101", join_code="AAAA1111", invite_token="tok"
    )
    assert course is not None
    for token, user, role in (
        ("a", CO, CourseRole.CO_TEACHER),
        ("b", ASSIST, CourseRole.ASSISTANT),
    ):
        await records.staff.create_staff_invite(
            token,
            course_id=course.id,
            role=role,
            created_by=OWNER,
            now=T0,
            expires_at=T0 + timedelta(days=7),
        )
        assert await records.staff.use_staff_invite(token, profile=UserProfile(user, "X"), now=T0)
    return records, access, course


async def test_each_role_may_do_exactly_its_grants() -> None:
    _, access, course = await _setup()
    for user, role in (
        (OWNER, CourseRole.OWNER),
        (CO, CourseRole.CO_TEACHER),
        (ASSIST, CourseRole.ASSISTANT),
    ):
        assert await access.role_in(user, course) is role
        for permission in Permission:
            allowed = permission in GRANTS[role]
            assert await access.may(user, course, permission) is allowed, (role, permission)
            if not allowed:
                with pytest.raises(NotPermitted):
                    await access.require(user, course, permission)
    assert GRANTS[CourseRole.CO_TEACHER] == frozenset(Permission) - {
        Permission.ARCHIVE,
        Permission.MANAGE_STAFF,
        Permission.API_TOKENS,
    }
    assert GRANTS[CourseRole.ASSISTANT] == {
        Permission.VIEW,
        Permission.RUN_SESSIONS,
        Permission.MARK,
    }


async def test_anyone_else_is_refused_as_not_a_teacher() -> None:
    _, access, course = await _setup()
    for user in (OTHER_TEACHER, STUDENT):
        assert await access.role_in(user, course) is None
        with pytest.raises(NotATeacher):
            await access.require(user, course, Permission.VIEW)
        with pytest.raises(NotATeacher):
            await access.course(user, course.id, Permission.VIEW)
    with pytest.raises(NotATeacher):
        await access.require_any(STUDENT, Permission.RUN_SESSIONS)
    with pytest.raises(InvalidArgument):
        await access.find(OTHER_TEACHER, ["Math", "101"], Permission.VIEW)


async def test_staff_find_their_courses_by_what_they_may_do() -> None:
    _, access, course = await _setup()
    assert [c.id for c in await access.courses(ASSIST, Permission.RUN_SESSIONS)] == [course.id]
    assert await access.courses(ASSIST, Permission.REPORT) == []
    assert [c.id for c in await access.courses(CO, Permission.REPORT)] == [course.id]
    await access.require_any(ASSIST, Permission.MARK)
    with pytest.raises(NotPermitted):
        await access.require_any(ASSIST, Permission.REPORT)
    with pytest.raises(NotPermitted) as refused:
        await access.find(ASSIST, ["math", "101"], Permission.SETTINGS)
    assert refused.value.role is CourseRole.ASSISTANT
    assert (await access.find(CO, ["MATH", "101", "late"], Permission.SETTINGS))[1] == 2


async def test_an_owner_who_is_no_longer_a_teacher_has_no_role() -> None:
    records = memory_record_stores()
    access = CourseAccess(
        courses=records.courses, staff=records.staff, roles=RoleService([], [], roles=records.roles)
    )
    course = await records.courses.create_course(
        OWNER, name="Math", join_code="BBBB2222", invite_token="t2"
    )
    assert course is not None
    assert await access.role_in(OWNER, course) is None
    assert await access.courses(OWNER, Permission.VIEW) == []
