"""Rotating codes, QR payloads and the wrong-code lock-out, on real Redis with a manual clock."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.container import Services
from services.clock import ManualClock
from services.codes import CODE_ALPHABET
from services.models import CheckInOutcome
from services.qr import decode_checkin_payload, encode_checkin_payload
from tests.conftest import TEACHER_ID

STUDENT = 4242


async def test_code_accepted_in_its_step_and_grace_then_expired(
    services: Services, clock: ManualClock
) -> None:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Rot")
    assert session.rotation_seconds == 30 and session.grace_seconds == 5
    first = session.code
    clock.advance(seconds=29)
    assert await services.rotation.rotate_due_codes() == {}  # not due yet
    ok = await services.checkins.check_in(STUDENT, first)
    assert ok.outcome is CheckInOutcome.RECORDED
    clock.advance(seconds=1)
    rotated = await services.rotation.rotate_due_codes()
    second = rotated[session.id]
    assert second != first
    assert await services.rotation.rotate_due_codes() == {}  # a second rotator: nothing due
    clock.advance(seconds=4)  # within the 5-second grace: the old code still works
    assert (await services.checkins.check_in(STUDENT + 1, first)).outcome is (
        CheckInOutcome.RECORDED
    )
    clock.advance(seconds=1)  # grace over
    expired = await services.checkins.check_in(STUDENT + 2, first)
    assert expired.outcome is CheckInOutcome.EXPIRED_CODE
    assert (await services.checkins.check_in(STUDENT + 2, second)).outcome is (
        CheckInOutcome.RECORDED
    )
    clock.advance(seconds=30)
    third = (await services.rotation.rotate_due_codes())[session.id]
    clock.advance(seconds=6)
    for old in (first, second):
        assert (await services.checkins.check_in(STUDENT + 3, old)).outcome is (
            CheckInOutcome.EXPIRED_CODE
        )
    assert (await services.checkins.check_in(STUDENT + 3, third)).outcome is (
        CheckInOutcome.RECORDED
    )
    # The stale QR of the first step is refused the same way.
    qr = decode_checkin_payload(encode_checkin_payload(session.id, first))
    assert qr is not None
    stale = await services.checkins.check_in(STUDENT + 4, qr[1], session_id=qr[0])
    assert stale.outcome is CheckInOutcome.EXPIRED_CODE
    fresh = await services.checkins.check_in(STUDENT + 4, third, session_id=session.id)
    assert fresh.outcome is CheckInOutcome.RECORDED


async def test_fixed_code_when_rotation_is_off(services: Services, clock: ManualClock) -> None:
    session = await services.sessions.start_session(
        TEACHER_ID, TEACHER_ID, 30, "Fixed", rotation_seconds=0
    )
    clock.advance(minutes=20)
    assert await services.rotation.rotate_due_codes() == {}
    assert (await services.checkins.check_in(STUDENT, session.code)).outcome is (
        CheckInOutcome.RECORDED
    )


async def test_200_rotating_sessions_never_share_an_accepted_code(
    services: Services, clock: ManualClock
) -> None:
    # A tiny code space (two letters -> 4 codes per prefix) forces collisions, so the test
    # shows that the reservation, not luck, keeps codes apart.
    teachers = range(3000, 3200)
    services.roles._teachers = frozenset(teachers)  # type: ignore[attr-defined]
    draws = itertools.cycle(
        a + b + c for a in "2345" for b in "6789" for c in "ABCD"
    )  # 64 three-letter stems
    services.sessions._new_code = lambda n: next(draws) + "XYZ"  # type: ignore[method-assign]
    for teacher in teachers[:50]:
        await services.sessions.start_session(teacher, teacher, 240, rotation_seconds=10)
    services.sessions._new_code = lambda n: "".join(  # type: ignore[method-assign]
        __import__("secrets").choice(CODE_ALPHABET) for _ in range(n)
    )
    for teacher in teachers[50:]:
        await services.sessions.start_session(teacher, teacher, 240, rotation_seconds=10)
    redis = services.redis
    for step in range(1000):  # the shortest rotation allowed (card refresh + grace), 1000 times
        clock.advance(seconds=10)
        await services.rotation.rotate_due_codes()
        if step % 50 == 0 or step == 999:
            accepted: list[str] = []
            async for key in redis.scan_iter(match="attn:s:{*}", count=1000):
                if key.count(b":") != 2:
                    continue
                fields = await redis.hmget(key, "code", "prev_code", "prev_until")
                accepted.append(fields[0].decode())
                if fields[1] and int(fields[2]) > int(clock.now().timestamp() * 1000):
                    accepted.append(fields[1].decode())
            assert len(accepted) == len(set(accepted)), f"shared code at step {step}"
            assert len(accepted) >= 200


@given(
    st.text(alphabet="0123456789abcdef", min_size=12, max_size=12),
    st.text(alphabet=CODE_ALPHABET, min_size=6, max_size=6),
)
def test_qr_payload_round_trips_within_64_characters(session_id: str, code: str) -> None:
    payload = encode_checkin_payload(session_id, code)
    assert decode_checkin_payload(payload) == (session_id, code)
    assert len(payload) <= 64
    assert set(payload) <= set(string.ascii_letters + string.digits + "_-")


@pytest.mark.parametrize(
    "payload", ["ci_", "ci_xyz-ABCDEF", "join_x", "ci_" + "a" * 12 + "-0OIL1A"]
)
def test_foreign_payloads_are_not_check_ins(payload: str) -> None:
    assert decode_checkin_payload(payload) is None


async def test_five_wrong_codes_lock_for_ten_minutes(
    services: Services, clock: ManualClock
) -> None:
    from services.models import UserProfile

    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60, rotation_seconds=0)
    wrong = "ZZZZZZ" if session.code != "ZZZZZZ" else "YYYYYY"

    async def attempt(student: int, code: str) -> CheckInOutcome:
        visit = await services.users.seen(UserProfile(student, "S"))
        result = await services.checkins.check_in(student, code, visit.locked_until)
        return result.outcome

    outcomes = [await attempt(STUDENT, wrong) for _ in range(5)]
    assert outcomes == [CheckInOutcome.WRONG_CODE] * 4 + [CheckInOutcome.LOCKED_OUT]
    assert await attempt(STUDENT, session.code) is CheckInOutcome.LOCKED_OUT
    assert await attempt(STUDENT + 1, session.code) is CheckInOutcome.RECORDED  # others fine
    clock.advance(minutes=9, seconds=59)
    assert await attempt(STUDENT, session.code) is CheckInOutcome.LOCKED_OUT
    clock.advance(seconds=1)
    assert await attempt(STUDENT, session.code) is CheckInOutcome.RECORDED


async def test_wrong_codes_spread_over_more_than_ten_minutes_do_not_lock(
    services: Services, clock: ManualClock
) -> None:
    from services.models import UserProfile

    await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 120, rotation_seconds=0)
    for _ in range(8):
        visit = await services.users.seen(UserProfile(STUDENT, "S"))
        result = await services.checkins.check_in(STUDENT, "ZZZZZZ", visit.locked_until)
        assert result.outcome is CheckInOutcome.WRONG_CODE
        clock.advance(minutes=3)


async def test_a_crash_between_counter_and_expiry_cannot_lock_forever(
    services: Services, clock: ManualClock
) -> None:
    """The lock is a time in the attempts hash; even with no TTL at all it ends on time."""
    from services.models import UserProfile
    from storage.redis import keys

    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60, rotation_seconds=0)
    for _ in range(5):
        await services.checkins.check_in(STUDENT, "ZZZZZZ")
    await services.redis.persist(keys.attempts(STUDENT))  # as if the EXPIRE never happened
    clock.advance(minutes=10)
    visit = await services.users.seen(UserProfile(STUDENT, "S"))
    assert visit.locked_until is None
    result = await services.checkins.check_in(STUDENT, session.code, visit.locked_until)
    assert result.outcome is CheckInOutcome.RECORDED
