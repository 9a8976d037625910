"""CourseStaffRecords: staff roles, one-time links and their audit rows, the same on
PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import CourseAction, CourseChange, CourseRole, StaffInvite, UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0

T1 = T0 + timedelta(minutes=1)
WEEK = timedelta(days=7)


async def test_a_link_is_spent_once_and_gives_its_role(records: RecordStores) -> None:
    staff = records.staff
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    await staff.create_staff_invite(
        "h1",
        course_id=c.id,
        role=CourseRole.ASSISTANT,
        created_by=1001,
        now=T0,
        expires_at=T0 + WEEK,
    )
    offered = StaffInvite(c.id, CourseRole.ASSISTANT, 1001)
    assert await staff.staff_invite("h1", T1) == offered
    assert await staff.staff_invite("nope", T1) is None
    # The owner cannot spend it (and it stays usable).
    assert await staff.use_staff_invite("h1", profile=UserProfile(1001, "Olga"), now=T1) is None
    ann = UserProfile(7, "Ann", username="ann", last_seen=T1)
    assert await staff.use_staff_invite("h1", profile=ann, now=T1) == offered
    assert await staff.use_staff_invite("h1", profile=UserProfile(8, "Bob"), now=T1) is None
    assert await staff.staff_invite("h1", T1) is None
    assert await staff.staff_role(c.id, user_id=7) is CourseRole.ASSISTANT
    assert await staff.staff_role(c.id, user_id=8) is None
    [(course, role)] = await staff.staff_courses(7)
    assert (course.id, course.name, role) == (c.id, "Maths", CourseRole.ASSISTANT)
    [member] = await staff.course_staff(c.id)
    assert (member.profile.user_id, member.profile.display_name, member.role) == (
        7,
        "Ann",
        CourseRole.ASSISTANT,
    )
    assert await records.course_admin.course_changes(c.id) == [
        CourseChange(c.id, 7, T1, CourseAction.ADD_STAFF, None, "assistant")
    ]


async def test_expired_links_and_a_new_role(records: RecordStores) -> None:
    staff = records.staff
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    assert c is not None
    await staff.create_staff_invite(
        "old", course_id=c.id, role=CourseRole.ASSISTANT, created_by=1001, now=T0, expires_at=T1
    )
    assert await staff.use_staff_invite("old", profile=UserProfile(7, "Ann"), now=T1) is None
    for token, role in (("a", CourseRole.ASSISTANT), ("b", CourseRole.CO_TEACHER)):
        await staff.create_staff_invite(
            token, course_id=c.id, role=role, created_by=1001, now=T0, expires_at=T0 + WEEK
        )
        assert await staff.use_staff_invite(token, profile=UserProfile(7, "Ann"), now=T1)
    assert await staff.staff_role(c.id, user_id=7) is CourseRole.CO_TEACHER
    assert [ch.old_value for ch in await records.course_admin.course_changes(c.id)] == [
        None,
        "assistant",
    ]


async def test_removal_is_audited_once(records: RecordStores) -> None:
    staff = records.staff
    c = await records.courses.create_course(1001, name="Maths", join_code="J1", invite_token="I1")
    d = await records.courses.create_course(1001, name="Art", join_code="J2", invite_token="I2")
    assert c is not None and d is not None
    for token, course in (("a", c), ("b", d)):
        await staff.create_staff_invite(
            token,
            course_id=course.id,
            role=CourseRole.CO_TEACHER,
            created_by=1001,
            now=T0,
            expires_at=T0 + WEEK,
        )
        assert await staff.use_staff_invite(token, profile=UserProfile(7, "Ann"), now=T0)
    assert [course.name for course, _ in await staff.staff_courses(7)] == ["Art", "Maths"]
    assert await staff.remove_staff(c.id, user_id=7, by=1001, at=T1)
    assert not await staff.remove_staff(c.id, user_id=7, by=1001, at=T1)
    assert await staff.staff_role(c.id, user_id=7) is None
    assert await staff.course_staff(c.id) == []
    assert [course.name for course, _ in await staff.staff_courses(7)] == ["Art"]
    assert (await records.course_admin.course_changes(c.id))[-1] == CourseChange(
        c.id, 1001, T1, CourseAction.REMOVE_STAFF, "7 co_teacher", None
    )
