"""A /checkin update in one Redis round trip on one server (touch_profile.lua and
check_in.lua as one script, on fakeredis): the update's claim, the profile, the lock-out and
the check-in together, with the same answers as the two steps they replace."""

from __future__ import annotations

import fakeredis

from services.checkins import WRONG_CODE_LIMIT, CheckInService
from services.clock import ManualClock
from services.models import CheckInOutcome, UserProfile
from services.ports import LiveStores
from services.sessions import SessionService
from services.users import UserService
from storage.redis import keys
from tests.conftest import TEACHER_ID
from tests.fakes.memory import MemoryDatabase
from tests.support.redis_commands import commands_sent

STUDENT = UserProfile(5001, "Ada", "Lovelace", "ada", language_code="en")


async def open_session(sessions: SessionService, checkins: CheckInService) -> str:
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 60, "Math")
    # Other students first: the process now knows the update floor, and the one-step
    # script is loaded.
    await checkins.check_in_on_arrival(UserProfile(4000, "Warm"), 1, session.code)
    await checkins.check_in_on_arrival(UserProfile(4001, "Warmer"), 2, session.code)
    return session.code


async def test_a_checkin_update_is_one_round_trip(
    sessions: SessionService,
    checkins: CheckInService,
    fake_redis: fakeredis.FakeAsyncRedis,
    clock: ManualClock,
) -> None:
    code = await open_session(sessions, checkins)
    with commands_sent() as sent:
        visit, result = await checkins.check_in_on_arrival(STUDENT, 100, code.lower())
    assert sent == ["EVALSHA"]
    assert not visit.duplicate and not visit.cached and visit.locked_until is None
    assert result is not None and result.outcome is CheckInOutcome.RECORDED
    assert result.checked_in_at == clock.now() and result.checked_in_count == 3
    cached = await fake_redis.hgetall(keys.profile(STUDENT.user_id))
    # The claim window: floor 0, then update 100 as its base-36 step above it.
    assert cached[b"first_name"] == b"Ada" and cached[b"upd"] == b"0 2s"
    assert await fake_redis.zscore(keys.seen_index(), str(STUDENT.user_id)) is not None


async def test_the_first_checkin_of_a_new_code_is_one_round_trip(
    sessions: SessionService,
    checkins: CheckInService,
    fake_redis: fakeredis.FakeAsyncRedis,
    clock: ManualClock,
) -> None:
    """The script finds the session by the code's route itself: no route cached in the
    process, no lookup first, the claim in the same step."""
    await open_session(sessions, checkins)
    await sessions.end_session(TEACHER_ID)
    session = await sessions.start_session(TEACHER_ID, TEACHER_ID, 60, "Physics")
    with commands_sent() as sent:
        visit, result = await checkins.check_in_on_arrival(STUDENT, 100, session.code)
    assert sent == ["EVALSHA"]
    assert result is not None and result.outcome is CheckInOutcome.RECORDED
    assert result.session_id == session.id and result.session_title == "Physics"
    assert result.checked_in_at == clock.now() and result.checked_in_count == 1
    assert not visit.duplicate


async def test_a_scanned_qr_names_its_session_in_the_same_step(
    sessions: SessionService, checkins: CheckInService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    code = await open_session(sessions, checkins)
    route = await fake_redis.get(keys.code(code))
    assert isinstance(route, bytes)
    session_id = route.decode()
    with commands_sent() as sent:
        _, result = await checkins.check_in_on_arrival(STUDENT, 100, code, session_id)
    assert sent == ["EVALSHA"]
    assert result is not None and result.outcome is CheckInOutcome.RECORDED
    assert result.session_id == session_id and result.checked_in_count == 3
    stored = await fake_redis.hget(keys.session_checkins(session_id), str(STUDENT.user_id))
    assert stored is not None


async def test_a_redelivered_checkin_update_judges_nothing(
    sessions: SessionService, checkins: CheckInService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    code = await open_session(sessions, checkins)
    await checkins.check_in_on_arrival(STUDENT, 100, code)
    with commands_sent() as sent:
        visit, result = await checkins.check_in_on_arrival(STUDENT, 100, code)
    assert sent == ["EVALSHA"] and visit.duplicate and result is None
    # A new update with the same code is judged: the student is already checked in.
    visit, result = await checkins.check_in_on_arrival(STUDENT, 101, code)
    assert result is not None and result.outcome is CheckInOutcome.DUPLICATE


async def test_a_locked_out_student_is_refused_in_the_same_step(
    sessions: SessionService, checkins: CheckInService, clock: ManualClock
) -> None:
    code = await open_session(sessions, checkins)
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    outcomes = [
        (await checkins.check_in_on_arrival(STUDENT, 200 + i, wrong))[1]
        for i in range(WRONG_CODE_LIMIT)
    ]
    assert [r.outcome for r in outcomes if r is not None][-1] is CheckInOutcome.LOCKED_OUT
    visit, result = await checkins.check_in_on_arrival(STUDENT, 300, code)
    assert visit.locked_until is not None and visit.locked_until > clock.now()
    assert result is not None and result.outcome is CheckInOutcome.LOCKED_OUT
    clock.advance(minutes=11)
    visit, result = await checkins.check_in_on_arrival(STUDENT, 301, code)
    assert result is not None and result.outcome is CheckInOutcome.RECORDED


async def test_a_wrong_session_code_counts_against_the_guard(
    sessions: SessionService, checkins: CheckInService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    """A code that names no session: the claim and the guard as in two steps."""
    await open_session(sessions, checkins)
    visit, result = await checkins.check_in_on_arrival(STUDENT, 400, "ZZZZZZ")
    assert not visit.duplicate and result is not None
    assert result.outcome is CheckInOutcome.WRONG_CODE
    assert await fake_redis.zcard(keys.guesses(STUDENT.user_id)) == 1
    assert (await checkins.check_in_on_arrival(STUDENT, 400, "ZZZZZZ"))[1] is None


async def test_a_returning_student_gets_their_registered_name_back(
    sessions: SessionService,
    checkins: CheckInService,
    users: UserService,
    database: MemoryDatabase,
    live: LiveStores,
    fake_redis: fakeredis.FakeAsyncRedis,
) -> None:
    code = await open_session(sessions, checkins)
    await users.register(STUDENT, "Ada King", "S-1")
    await fake_redis.delete(keys.profile(STUDENT.user_id))  # swept: only the records have it
    assert database.users[STUDENT.user_id].full_name == "Ada King"
    visit, result = await checkins.check_in_on_arrival(STUDENT, 500, code)
    assert not visit.cached and result is not None
    await users.settle()
    cached = await live.profiles.cached_profile(STUDENT.user_id)
    assert cached is not None and cached.full_name == "Ada King"


async def test_a_stale_route_is_looked_up_again(
    sessions: SessionService, checkins: CheckInService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    code = await open_session(sessions, checkins)
    await sessions.end_session(TEACHER_ID)
    await fake_redis.delete(*keys.session_keys((await fake_redis.keys("attn:s:*"))[0]))
    visit, result = await checkins.check_in_on_arrival(STUDENT, 600, code)
    assert not visit.duplicate and result is not None
    assert result.outcome in (CheckInOutcome.WRONG_CODE, CheckInOutcome.CLOSED)


async def test_the_visit_brings_the_remembered_menu_along(
    sessions: SessionService, checkins: CheckInService, users: UserService
) -> None:
    """A user's first message to a process checks their menu: read in the same step."""
    code = await open_session(sessions, checkins)
    visit, _ = await checkins.check_in_on_arrival(STUDENT, 700, code)
    assert visit.menu == ""  # a student: nothing remembered, no menu to set
    await users.remember_menu(STUDENT.user_id, "teacher:abc")
    visit, _ = await checkins.check_in_on_arrival(STUDENT, 701, code)
    assert visit.menu == "teacher:abc"
    assert (await users.seen(STUDENT, 702)).menu == "teacher:abc"


async def test_a_request_with_no_update_claims_nothing_in_the_same_step(
    sessions: SessionService, checkins: CheckInService, fake_redis: fakeredis.FakeAsyncRedis
) -> None:
    """The Mini App's check-in (no Telegram update): the visit and the check-in in one step,
    no update id claimed, and two such requests are never taken for a duplicate."""
    code = await open_session(sessions, checkins)
    with commands_sent() as sent:
        visit, result = await checkins.check_in_on_arrival(STUDENT, None, code)
    assert sent == ["EVALSHA"] and not visit.duplicate
    assert result is not None and result.outcome is CheckInOutcome.RECORDED
    assert await fake_redis.hget(keys.profile(STUDENT.user_id), "upd") is None
    visit, result = await checkins.check_in_on_arrival(STUDENT, None, code)
    assert not visit.duplicate and visit.cached
    assert result is not None and result.outcome is CheckInOutcome.DUPLICATE
