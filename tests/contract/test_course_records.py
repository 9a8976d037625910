"""CourseRecords: the same assertions on PostgreSQL and in memory."""

from __future__ import annotations

from dataclasses import replace

from services.models import UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0


async def test_create_refuses_any_collision(records: RecordStores) -> None:
    first = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert first is not None and first.roster_size == 0 and first.warn_below_percent == 70
    assert (
        await records.courses.create_course(1001, name="Maths", join_code="J2", invite_token="I2")
        is None
    )
    assert (
        await records.courses.create_course(7, name="Art", join_code="J1", invite_token="I3")
        is None
    )
    assert (
        await records.courses.create_course(7, name="Art", join_code="J4", invite_token="I1")
        is None
    )
    other = await records.courses.create_course(7, name="Maths", join_code="J5", invite_token="I5")
    assert other is not None and other.id == first.id + 4  # conflicts draw ids too
    assert await records.courses.course_name_taken(1001, "Maths")
    assert not await records.courses.course_name_taken(1001, "maths")


async def test_lookups_rosters_and_settings(records: RecordStores) -> None:
    c = await records.courses.create_course(
        1001, name="b-course", join_code="J1", invite_token="I1"
    )
    d = await records.courses.create_course(
        1001, name="B-course", join_code="J2", invite_token="I2"
    )
    e = await records.courses.create_course(
        1001, name="a-course", join_code="J3", invite_token="I3"
    )
    assert c is not None and d is not None and e is not None
    assert [x.name for x in await records.courses.teacher_courses(1001)] == [
        "B-course",
        "a-course",
        "b-course",
    ]
    assert await records.courses.enrol(c.id, UserProfile(2, "Ann", last_seen=T0))
    assert not await records.courses.enrol(c.id, UserProfile(2, "Annie", last_seen=T0))
    assert await records.courses.enrol(e.id, UserProfile(2, "Ann"))
    assert await records.courses.enrol(c.id, UserProfile(3, "Bo"))
    found = await records.courses.course_by_join_code("J1")
    assert found is not None and found.roster_size == 2
    assert await records.courses.course_by_invite("I1") == found
    assert await records.courses.course_by_invite("nope") is None
    assert await records.courses.course(9999) is None
    assert sorted(await records.courses.roster(c.id)) == [2, 3]
    profiles = {p.user_id: p for p in await records.courses.roster_profiles(c.id)}
    # The last enrolment's names win; a missing last_seen keeps the stored one (GREATEST).
    assert profiles[2].first_name == "Ann" and profiles[2].last_seen == T0
    assert [x.name for x in await records.courses.student_courses(2)] == ["a-course", "b-course"]
    assert c.time_zone is None  # a new course follows the installation's zone
    await records.courses.update_course_settings(
        c.id, late_after_minutes=5, warn_below_percent=80, time_zone="Asia/Tashkent"
    )
    updated = await records.courses.course(c.id)
    assert updated is not None
    assert (updated.late_after_minutes, updated.warn_below_percent) == (5, 80)
    assert updated.time_zone == "Asia/Tashkent"
    assert await records.courses.course_by_join_code("J1") == updated
    await records.courses.update_course_settings(
        c.id, late_after_minutes=5, warn_below_percent=80, time_zone=None
    )
    assert (await records.courses.course(c.id)) == replace(updated, time_zone=None)
    assert (await records.privacy.personal_data(2)).courses == ["a-course", "b-course"]
