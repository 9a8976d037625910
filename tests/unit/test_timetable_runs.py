"""A term run on a manual clock by two processes' services on the same stores: each slot is
reminded, opened and reported once; nothing on the holiday; a slot that passed while both
were down is not opened late but reported; the change to summer time moves nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.container import Services
from services.clock import ManualClock
from services.errors import InvalidArgument, NotATeacher, SessionAlreadyOpen
from services.models import CheckInOutcome, CourseRole, UserProfile
from services.timetable_runs import TimetableWork
from services.timetable_slots import SlotRule
from tests.conftest import TEACHER_ID, services_on_the_same_stores

STUDENT = 501
MADRID_MONDAY_15 = datetime(2027, 3, 15, tzinfo=UTC)


async def set_up_course(services: Services) -> int:
    course = await services.courses.new_course(TEACHER_ID, "Maths")
    course = await services.courses.update_settings(
        TEACHER_ID, course, None, None, time_zone="Europe/Madrid"
    )
    await services.courses.join_by_code(UserProfile(STUDENT, "Ann"), course.join_code)
    timetables = services.timetables
    await timetables.add_slot(TEACHER_ID, course.id, SlotRule(0, time(10), 90))
    await timetables.add_slot(TEACHER_ID, course.id, SlotRule(2, time(10), 90))
    await timetables.set_term(TEACHER_ID, course.id, date(2027, 3, 15), date(2027, 4, 4))
    await timetables.toggle_holiday(TEACHER_ID, course.id, date(2027, 3, 24))
    await timetables.set_minutes(TEACHER_ID, course.id, early=5, remind=15)
    return course.id


async def tick(processes: list[Services], seen: TimetableWork) -> None:
    """Every process ticks; the one whose session opened lets the student check in."""
    for services in processes:
        work = await services.timetable_runs.run_due()
        seen.reminders += work.reminders
        seen.missed += work.missed
        seen.opened += work.opened
        for opened in work.opened:
            result = await services.checkins.check_in(STUDENT, opened.session.code)
            assert result.outcome is CheckInOutcome.RECORDED
        await services.sweeper.sweep_attendances()


async def run_until(
    processes: list[Services], clock: ManualClock, end: datetime, seen: TimetableWork
) -> None:
    """Tick every minute around the classes (07:00-11:00 UTC), hourly otherwise."""
    while clock.now() < end:
        await tick(processes, seen)
        now = clock.now()
        step = timedelta(minutes=1) if 7 <= now.hour < 11 else timedelta(hours=1)
        clock.set(min(end, now + step))


async def test_two_processes_run_three_weeks_with_a_restart_once_each(
    services: Services, request: pytest.FixtureRequest, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    course_id = await set_up_course(services)
    other = await services_on_the_same_stores(request, clock)
    seen = TimetableWork()
    try:
        clock.set(MADRID_MONDAY_15 - timedelta(days=1))
        await run_until([services, other], clock, datetime(2027, 3, 21, tzinfo=UTC), seen)
        # Both processes down from Sunday 21 to Monday 22 at noon: the Monday slot passes.
        await other.close()
        clock.set(datetime(2027, 3, 22, 12, tzinfo=UTC))
        other = await services_on_the_same_stores(request, clock)
        await run_until([services, other], clock, datetime(2027, 4, 5, tzinfo=UTC), seen)
    finally:
        await other.close()
    local = [s.slot.local_start.strftime("%a %d %H:%M %Z") for s in seen.opened]
    assert local == [
        "Mon 15 10:00 CET",
        "Wed 17 10:00 CET",
        "Mon 29 10:00 CEST",
        "Wed 31 10:00 CEST",
    ]
    assert [o.session.started_at for o in seen.opened] == [
        s.slot.opens_at for s in seen.opened
    ]  # opened 5 minutes early, on the minute
    assert all(o.session.ends_at == o.slot.ends_at for o in seen.opened)  # closes at the end
    assert all(o.course.id == course_id for o in seen.opened)
    assert [n.slot.local_start.day for n in seen.reminders] == [15, 17, 29, 31]
    assert [(n.slot.local_start.day, n.reason) for n in seen.missed] == [(22, "no_session")]
    runs = await services.records.timetables.slot_runs(since=MADRID_MONDAY_15)
    assert [r.starts_at.day for r in runs] == [15, 17, 22, 29, 31]  # nothing on the 24th
    assert all(r.reported for r in runs)
    opened_ids = [o.session.id for o in seen.opened]
    assert [r.session_id for r in runs if r.session_id] == opened_ids
    assert len(set(opened_ids)) == 4


async def test_coming_slots_and_start_now(services: Services, clock: ManualClock) -> None:
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    course_id = await set_up_course(services)
    coming = await services.timetables.coming_slots(course_id, limit=3)
    assert [s.local_start.strftime("%d %H:%M") for s in coming] == [
        "15 10:00",
        "17 10:00",
        "22 10:00",
    ]
    with pytest.raises(InvalidArgument):  # no class within the hour
        await services.timetable_runs.start_slot_now(TEACHER_ID, course_id)
    with pytest.raises(NotATeacher):
        await services.timetable_runs.start_slot_now(STUDENT, course_id)
    clock.set(datetime(2027, 3, 15, 8, 20, tzinfo=UTC))  # 09:20 in Madrid, 40 min early
    opened = await services.timetable_runs.start_slot_now(TEACHER_ID, course_id)
    assert opened.session.ends_at == opened.slot.ends_at
    assert await services.timetables.slot_session(course_id, opened.slot.starts_at) == (
        opened.session.id
    )
    with pytest.raises(SessionAlreadyOpen):
        await services.timetable_runs.start_slot_now(TEACHER_ID, course_id)
    clock.set(opened.slot.opens_at)
    work = await services.timetable_runs.run_due()
    assert work.opened == [] and work.reminders == []  # it is open already


async def add_assistant(services: Services, course_id: int, user_id: int) -> None:
    now = services.timetables.now()
    await services.records.staff.create_staff_invite(
        "assistant-token",
        course_id=course_id,
        role=CourseRole.ASSISTANT,
        created_by=TEACHER_ID,
        now=now,
        expires_at=now + timedelta(days=7),
    )
    profile = UserProfile(user_id, "Tess")
    assert await services.records.staff.use_staff_invite(
        "assistant-token", profile=profile, now=now
    )


async def test_an_assistant_is_reminded_and_starts_the_class_early_once(
    services: Services, clock: ManualClock
) -> None:
    assistant = 7007
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    course_id = await set_up_course(services)
    await add_assistant(services, course_id, assistant)
    runner = services.timetable_runs
    clock.set(datetime(2027, 3, 15, 8, 40, tzinfo=UTC))  # the reminder, 15 min before 09:55
    [reminder] = (await runner.run_due()).reminders
    assert reminder.recipients == (TEACHER_ID, assistant)
    clock.set(datetime(2027, 3, 15, 8, 45, tzinfo=UTC))
    opened = await runner.start_slot_now(assistant, course_id)
    assert opened.session.teacher_id == assistant  # the assistant runs it, and has its card
    assert opened.session.ends_at == opened.slot.ends_at
    clock.set(opened.slot.opens_at)
    assert (await runner.run_due()).opened == []  # not opened a second time for the owner
    assert await services.sessions.open_session(TEACHER_ID) is None


async def test_a_session_started_by_hand_by_an_assistant_is_the_class_s_session(
    services: Services, clock: ManualClock
) -> None:
    assistant = 7007
    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))
    course_id = await set_up_course(services)
    await add_assistant(services, course_id, assistant)
    course = await services.records.courses.course(course_id)
    clock.set(datetime(2027, 3, 15, 8, 50, tzinfo=UTC))
    by_hand = await services.sessions.start_session(assistant, assistant, 120, course=course)
    clock.set(datetime(2027, 3, 15, 8, 55, tzinfo=UTC))
    assert (await services.timetable_runs.run_due()).opened == []
    assert await services.sessions.open_session(TEACHER_ID) is None
    assert (
        await services.timetables.slot_session(
            course_id, by_hand.started_at + timedelta(minutes=10)
        )
        == by_hand.id
    )
