"""The session rules, with the real Lua on fakeredis and a manual clock."""

from __future__ import annotations

import pytest

from services.checkins import CheckInService
from services.clock import ManualClock
from services.errors import InvalidArgument, NoOpenSession, NotATeacher, SessionAlreadyOpen
from services.models import AttendanceStatus, CheckInOutcome
from services.ports import LiveStores
from services.sessions import SessionService
from tests.conftest import TEACHER_ID

STUDENT = 5001


async def test_teacher_opens_a_session_with_a_code_and_end_time(
    sessions: SessionService, clock: ManualClock
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 15, "Math 101")
    assert session.code == "K7M2QA"
    assert session.title == "Math 101"
    assert session.ends_at == clock.now().replace() + (session.ends_at - session.started_at)
    assert (session.ends_at - session.started_at).total_seconds() == 15 * 60
    assert await sessions.open_session(TEACHER_ID) == session


async def test_default_length_and_title(sessions: SessionService, clock: ManualClock) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID)
    assert (session.ends_at - session.started_at).total_seconds() == 10 * 60
    assert session.title.startswith("Session ")


async def test_student_checks_in_once(
    sessions: SessionService, checkins: CheckInService, clock: ManualClock
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "Math")
    clock.advance(minutes=2)
    first = await checkins.check_in(STUDENT, session.code.lower())
    assert first.outcome is CheckInOutcome.RECORDED
    assert first.checked_in_at == clock.now()
    assert first.status is AttendanceStatus.PRESENT
    assert first.session_title == "Math"
    assert first.checked_in_count == 1
    clock.advance(minutes=1)
    second = await checkins.check_in(STUDENT, session.code)
    assert second.outcome is CheckInOutcome.DUPLICATE
    assert second.checked_in_at == first.checked_in_at  # the first time is kept
    assert second.checked_in_count == 1


async def test_wrong_code_is_refused(sessions: SessionService, checkins: CheckInService) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID)
    wrong = "ZZZZZZ" if session.code != "ZZZZZZ" else "YYYYYY"
    result = await checkins.check_in(STUDENT, wrong)
    assert result.outcome is CheckInOutcome.WRONG_CODE


@pytest.mark.parametrize("text", ["", "abc", "K7M2QA1", "K7M2Q0", "💥💥💥💥💥💥", "K7 M2 Q"])
async def test_malformed_code_is_invalid_argument(
    sessions: SessionService, checkins: CheckInService, text: str
) -> None:
    with pytest.raises(InvalidArgument):
        await checkins.check_in(STUDENT, text)


async def test_expired_session_refuses_check_in(
    sessions: SessionService, checkins: CheckInService, clock: ManualClock
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 5)
    clock.advance(minutes=5)
    result = await checkins.check_in(STUDENT, session.code)
    assert result.outcome is CheckInOutcome.CLOSED
    assert await sessions.open_session(TEACHER_ID) is None


async def test_check_in_with_no_open_session_is_wrong_code(
    sessions: SessionService, checkins: CheckInService
) -> None:
    result = await checkins.check_in(STUDENT, "K7M2QA")
    assert result.outcome is CheckInOutcome.WRONG_CODE


async def test_student_cannot_start_or_end_sessions(sessions: SessionService) -> None:
    with pytest.raises(NotATeacher):
        await sessions.start_session(STUDENT, STUDENT)
    with pytest.raises(NotATeacher):
        await sessions.end_session(STUDENT)


async def test_end_twice(
    sessions: SessionService, checkins: CheckInService, clock: ManualClock
) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID)
    ended = await sessions.end_session(TEACHER_ID)
    assert ended.id == session.id and ended.ends_at == clock.now()
    with pytest.raises(NoOpenSession):
        await sessions.end_session(TEACHER_ID)
    result = await checkins.check_in(STUDENT, session.code)
    assert result.outcome is CheckInOutcome.CLOSED


async def test_end_with_nothing_open(sessions: SessionService) -> None:
    with pytest.raises(NoOpenSession):
        await sessions.end_session(TEACHER_ID)


async def test_second_open_session_refused(sessions: SessionService, clock: ManualClock) -> None:
    first = await sessions.start_session(TEACHER_ID, TEACHER_ID)
    with pytest.raises(SessionAlreadyOpen) as refused:
        await sessions.start_session(TEACHER_ID, TEACHER_ID)
    assert refused.value.session.id == first.id
    # Another teacher is not affected.
    other = await sessions.start_session(TEACHER_ID + 1, TEACHER_ID + 1)
    assert other.code != first.code


async def test_new_session_allowed_once_the_old_one_ended(
    sessions: SessionService, clock: ManualClock
) -> None:
    await sessions.start_session(TEACHER_ID, TEACHER_ID, 5)
    clock.advance(minutes=6)
    second = await sessions.start_session(TEACHER_ID, TEACHER_ID, 5)
    assert await sessions.open_session(TEACHER_ID) == second
    await sessions.end_session(TEACHER_ID)
    third = await sessions.start_session(TEACHER_ID, TEACHER_ID, 5)
    assert third.id != second.id


async def test_codes_are_unique_among_open_sessions(live: LiveStores, clock: ManualClock) -> None:
    from services.roles import RoleService

    drawn = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    from services.course_access import CourseAccess
    from tests.fakes.memory import memory_record_stores

    records = memory_record_stores()
    roles = RoleService([1, 2], [])
    service = SessionService(
        sessions=live.sessions,
        chat_state=live.chat_state,
        courses=records.courses,
        roles=roles,
        access=CourseAccess(courses=records.courses, staff=records.staff, roles=roles),
        clock=clock,
        default_minutes=10,
        code_generator=lambda n: next(drawn),
    )
    first = await service.start_session(1, 1)
    second = await service.start_session(2, 2)
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")


@pytest.mark.parametrize("minutes", [0, 241, -1])
async def test_length_out_of_range(sessions: SessionService, minutes: int) -> None:
    with pytest.raises(InvalidArgument):
        await sessions.start_session(TEACHER_ID, TEACHER_ID, minutes)
    assert await sessions.open_session(TEACHER_ID) is None


async def test_title_too_long_changes_nothing(sessions: SessionService) -> None:
    with pytest.raises(InvalidArgument):
        await sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "x" * 5000)
    assert await sessions.open_session(TEACHER_ID) is None
    await sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "ok")


async def test_title_control_characters_are_removed(sessions: SessionService) -> None:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "a\u202eb\x00c\n d")
    assert session.title == "ab c d"  # an invisible mark goes; a control character is a space
