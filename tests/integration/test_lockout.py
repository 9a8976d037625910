"""The wrong-code lock-out holds under concurrency: at most five codes judged per student in
any ten minutes, whether the guesses arrive at once, or through several bot processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter

from redis.asyncio import Redis

from bot.container import Services
from services.checkins import WRONG_CODE_LIMIT, WRONG_CODE_WINDOW_SECONDS
from services.clock import ManualClock
from services.models import AttendanceStatus, CheckInOutcome
from storage.redis import keys
from tests.conftest import TEACHER_ID

STUDENT = 61_001
WRONG = "ZZZZZZ"


async def open_session(services: Services) -> tuple[str, str]:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60, rotation_seconds=0)
    assert session.code != WRONG
    return session.id, session.code


async def test_30_simultaneous_wrong_guesses_judge_at_most_5(
    services: Services, clock: ManualClock
) -> None:
    session_id, code = await open_session(services)
    results = await asyncio.gather(
        *(
            # Half typed (looked up by code), half through a QR link naming the session.
            services.checkins.check_in(STUDENT, WRONG, session_id=session_id if i % 2 else None)
            for i in range(30)
        )
    )
    outcomes = Counter(r.outcome for r in results)
    # Four judged wrong, the fifth judged wrong locks: every other guess was never judged.
    assert outcomes == {CheckInOutcome.WRONG_CODE: 4, CheckInOutcome.LOCKED_OUT: 26}
    visit_lock = await services.redis.hget(keys.attempts(STUDENT), "locked_until")
    assert visit_lock is not None
    right = await services.checkins.check_in(STUDENT, code)
    assert right.outcome is CheckInOutcome.LOCKED_OUT
    clock.advance(minutes=10)
    assert (await services.checkins.check_in(STUDENT, code)).outcome is CheckInOutcome.RECORDED


async def test_30_wrong_guesses_over_3_processes_judge_at_most_5(
    services: Services, redis_url: str, clean_database: str, clock: ManualClock
) -> None:
    session_id, _ = await open_session(services)
    start_at = time.time() + 4.0  # every process is connected by then
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.guess_burst",
            redis_url,
            clean_database,
            str(STUDENT),
            session_id,
            "10",
            clock.now().isoformat(),
            str(start_at),
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [await p.communicate() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    outcomes = Counter(o for out, _ in outputs for o in json.loads(out.decode().splitlines()[-1]))
    assert outcomes == {"wrong_code": 4, "locked_out": 26}


async def test_right_codes_and_duplicates_never_use_up_guesses(
    services: Services, clock: ManualClock
) -> None:
    _, code = await open_session(services)
    results = await asyncio.gather(*(services.checkins.check_in(STUDENT, code) for _ in range(30)))
    outcomes = Counter(r.outcome for r in results)
    # Only five are judged at once (the rest are refused like a lock-out, as a burst should
    # be), but a right code gives its guess back, so nothing keeps the student locked out.
    assert outcomes[CheckInOutcome.RECORDED] == 1
    for _ in range(20):
        again = await services.checkins.check_in(STUDENT, code)
        assert again.outcome is CheckInOutcome.DUPLICATE
    wrong = [await services.checkins.check_in(STUDENT + 1, WRONG) for _ in range(4)]
    assert {r.outcome for r in wrong} == {CheckInOutcome.WRONG_CODE}
    assert (await services.checkins.check_in(STUDENT + 1, code)).outcome is (
        CheckInOutcome.RECORDED
    )


async def test_a_guess_whose_process_died_frees_itself(
    services: Services, clean_redis: Redis, clock: ManualClock
) -> None:
    _, code = await open_session(services)
    live = services.live.checkins  # the store, as a dying process left it
    for _ in range(WRONG_CODE_LIMIT):
        assert await live.take_guess(
            STUDENT, clock.now(), WRONG_CODE_WINDOW_SECONDS, WRONG_CODE_LIMIT
        )
    assert (await services.checkins.check_in(STUDENT, code)).outcome is (CheckInOutcome.LOCKED_OUT)
    clock.advance(seconds=keys.UNSETTLED_GUESS_SECONDS)
    assert (await services.checkins.check_in(STUDENT, code)).outcome is CheckInOutcome.RECORDED


async def test_wrong_codes_count_in_a_sliding_window(
    services: Services, clock: ManualClock
) -> None:
    """Wrong codes late in one ten-minute span and early in the next still add up: no run of
    guesses gets more than five judged in any ten minutes (a fixed window would allow six
    here, and ten at its edge)."""
    await open_session(services)

    async def guess() -> CheckInOutcome:
        return (await services.checkins.check_in(STUDENT, WRONG)).outcome

    assert await guess() is CheckInOutcome.WRONG_CODE  # t = 0
    clock.advance(minutes=9)
    assert [await guess() for _ in range(3)] == [CheckInOutcome.WRONG_CODE] * 3
    clock.advance(minutes=1, seconds=30)  # the first has left the window; three have not
    assert await guess() is CheckInOutcome.WRONG_CODE
    assert await guess() is CheckInOutcome.LOCKED_OUT


async def test_every_key_of_a_session_expires_with_it(services: Services) -> None:
    """Check-ins and marks share the session hash's safety TTL, which is far beyond the
    longest a session may last, so no key of a live session expires before its sweep."""
    session_id, code = await open_session(services)
    assert (await services.checkins.check_in(STUDENT, code)).outcome is CheckInOutcome.RECORDED
    live = services.live.checkins
    assert (
        await live.mark_live(
            session_id, STUDENT + 1, status=AttendanceStatus.EXCUSED, expected=None
        )
    )[0] == "ok"
    redis = services.redis
    session_ttl = await redis.ttl(keys.session(session_id))
    assert keys.MAX_SESSION_SECONDS < session_ttl <= keys.SESSION_SAFETY_TTL
    for key in keys.session_keys(session_id):
        if await redis.exists(key):
            assert 0 <= session_ttl - await redis.ttl(key) <= 2, key
