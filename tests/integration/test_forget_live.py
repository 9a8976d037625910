"""Forgetting in Redis: the student leaves the roster of every live session, and no key of
theirs is left (run again on Redis Cluster by test_cluster)."""

from __future__ import annotations

from bot.container import Services
from services.clock import ManualClock
from services.models import Course, UserProfile
from storage.redis import keys
from tests.conftest import TEACHER_ID

STUDENT = 91_001
OTHER = 91_002


async def test_forget_leaves_live_rosters_and_drops_every_key(
    services: Services, clock: ManualClock
) -> None:
    teachers = [TEACHER_ID, TEACHER_ID + 1, TEACHER_ID + 2]
    services.roles._teachers = frozenset(teachers)  # type: ignore[attr-defined]
    sessions = []
    for teacher in teachers:
        course = await services.courses.new_course(teacher, f"Course {teacher}")
        for student in (STUDENT, OTHER):
            await services.records.courses.enrol(course.id, UserProfile(student, "S"))
        current = await services.records.courses.course(course.id)
        assert isinstance(current, Course)
        sessions.append(await services.sessions.start_session(teacher, teacher, 30, "", current))
    await services.users.seen(UserProfile(STUDENT, "Zbigniew", username="zq_private"))
    await services.users.settle()
    await services.users.expect_reply(STUDENT, "register")
    await services.checkins.check_in(STUDENT, "ZZZZZZ")  # a wrong code: attempt keys exist

    await services.privacy.forget(STUDENT)

    for session in sessions:
        assert await services.live.sessions.roster(session.id) == {OTHER}
    redis = services.redis
    for key in (
        keys.profile(STUDENT),
        keys.pending_action(STUDENT),
        keys.attempts(STUDENT),
        keys.guesses(STUDENT),
    ):
        assert await redis.exists(key) == 0, key
    assert await redis.zscore(keys.seen_index(), str(STUDENT)) is None
    assert await services.records.users.load_profile(STUDENT) is None


async def test_names_loaded_before_forgetting_are_not_merged_back(
    services: Services, clock: ManualClock
) -> None:
    """A background profile load that read the registered name just before /forgetme must
    not put it into the profile the user's next message caches."""
    profile = UserProfile(STUDENT, "Zbigniew")
    await services.users.register(profile, "Zbigniew Quetzalcoatl", "7788123")
    read_before = await services.records.users.load_profiles([STUDENT])
    await services.privacy.forget(STUDENT)
    clock.advance(seconds=1)
    await services.users.seen(UserProfile(STUDENT, "Z"))  # the next message: cached again
    await services.users.settle()
    stale = read_before[STUDENT]
    await services.live.profiles.merge_registrations(
        {STUDENT: (stale.full_name or "", stale.student_number or "")}
    )
    cached = await services.privacy.personal_data(STUDENT)
    assert cached.cached_profile is not None
    assert cached.cached_profile.full_name is None and cached.cached_profile.student_number is None
    assert cached.profile is None or cached.profile.full_name is None
