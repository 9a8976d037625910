"""/checkin updates on the real servers: one Redis round trip each on one server (the visit
and the check-in as one script), two on a Redis Cluster (the user's and the session's keys
live in different slots), and on both every update is handled once however often it is
delivered, at once, to several processes."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from bot.bootstrap import build_services
from bot.container import Services
from services.clock import ManualClock
from services.models import CheckInOutcome, UserProfile
from storage.redis import keys
from tests.conftest import TEACHER_ID, empty_database, make_settings

pytestmark = pytest.mark.servers

STUDENTS = range(81_000, 81_040)


async def deliver_three_times(processes: list[Services], code: str) -> Counter[str]:
    """Every student's update delivered once to each process, all at once."""
    calls = [
        process.checkins.check_in_on_arrival(UserProfile(s, "S"), 9_000_000 + s, code)
        for s in STUDENTS
        for process in processes
    ]
    outcomes: Counter[str] = Counter()
    for _, result in await asyncio.gather(*calls):
        outcomes["duplicate update" if result is None else result.outcome.value] += 1
    return outcomes


async def exactly_once(first: Services, second: Services, third: Services) -> None:
    session = await first.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    outcomes = await deliver_three_times([first, second, third], session.code)
    assert outcomes == {"recorded": len(STUDENTS), "duplicate update": 2 * len(STUDENTS)}
    assert await first.live.checkins.checkin_count(session.id) == len(STUDENTS)


async def test_one_round_trip_on_one_server(services: Services) -> None:
    redis = services.redis
    assert isinstance(redis, Redis)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    await services.checkins.check_in_on_arrival(UserProfile(1, "Warm"), 1, session.code)
    sent: list[str] = []
    original = redis.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    redis.execute_command = counting  # type: ignore[method-assign]
    try:
        visit, result = await services.checkins.check_in_on_arrival(
            UserProfile(2, "Ada"), 2, session.code
        )
    finally:
        del redis.execute_command
    assert sent == ["EVALSHA"]
    assert result is not None and result.outcome is CheckInOutcome.RECORDED
    assert not visit.cached and not visit.duplicate


async def test_exactly_once_with_three_processes_on_one_server(
    services: Services, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    settings = make_settings()
    redis_url = request.getfixturevalue("redis_url")
    database_url = await empty_database(request.getfixturevalue("database_url"))
    second = await build_services(settings, redis_url, database_url, clock=clock)
    third = await build_services(settings, redis_url, database_url, clock=clock)
    try:
        await exactly_once(services, second, third)
    finally:
        await second.close()
        await third.close()


async def test_exactly_once_in_two_steps_on_a_cluster(
    redis_cluster_url: str,
    database_url: str,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATTN_REDIS_URL", redis_cluster_url)
    monkeypatch.setenv("ATTN_REDIS_CLUSTER", "true")
    settings = make_settings()
    assert settings.redis_cluster
    database = await empty_database(database_url)
    processes = [
        await build_services(settings, redis_cluster_url, database, clock=clock) for _ in range(3)
    ]
    try:
        redis = processes[0].redis
        assert isinstance(redis, RedisCluster)
        await redis.flushall(target_nodes=RedisCluster.PRIMARIES)
        # The store cannot take both in one step there: the service takes two.
        one_step = processes[0].live.checkins.visit_and_check_in(
            UserProfile(1, "A"), 1, "ABCDEF", clock.now()
        )
        assert await one_step is None
        await exactly_once(*processes)
    finally:
        for process in processes:
            await process.close()


async def warm(services: Services, code: str) -> None:
    """One arrival first: the store reads the global update floor once a minute."""
    await services.checkins.check_in_on_arrival(UserProfile(1, "Warm"), 1, code)


async def test_a_hall_arriving_together_is_one_command(services: Services) -> None:
    """A hundred arrivals in the same turn of the loop: one EVALSHA for all of them, and each
    student gets their own answer."""
    redis = services.redis
    assert isinstance(redis, Redis)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    await warm(services, session.code)
    sent: list[str] = []
    original = redis.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    hall = range(82_000, 82_100)
    redis.execute_command = counting  # type: ignore[method-assign]
    try:
        answers = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(
                    UserProfile(s, f"S{s}"), 5_000 + s, session.code
                )
                for s in hall
            )
        )
    finally:
        del redis.execute_command
    assert sent == ["EVALSHA"]
    assert [result.outcome for _, result in answers if result] == [CheckInOutcome.RECORDED] * 100
    assert all(not visit.cached and not visit.duplicate for visit, _ in answers)
    stored = await services.live.checkins.checked_in(session.id)
    assert set(stored) == {1, *hall}
    # The same updates again, together: each is its own duplicate, nothing counted twice.
    again = await asyncio.gather(
        *(
            services.checkins.check_in_on_arrival(UserProfile(s, f"S{s}"), 5_000 + s, session.code)
            for s in hall
        )
    )
    assert all(visit.duplicate and result is None for visit, result in again)
    assert await services.live.checkins.checkin_count(session.id) == 101


async def test_a_hall_arriving_first_thing_reads_the_update_floor_once(
    services: Services,
) -> None:
    """The global update floor is read once a minute: a hall arriving when it is due waits
    for one GET, not one each."""
    redis = services.redis
    assert isinstance(redis, Redis)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    sent: list[str] = []
    original = redis.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    hall = range(85_000, 85_050)
    redis.execute_command = counting  # type: ignore[method-assign]
    try:
        answers = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(UserProfile(s, "S"), 8_000 + s, session.code)
                for s in hall
            )
        )
    finally:
        del redis.execute_command
    assert sent == ["GET", "EVALSHA"]
    assert all(r is not None and r.outcome is CheckInOutcome.RECORDED for _, r in answers)


async def test_an_error_in_one_arrival_reaches_only_its_caller(services: Services) -> None:
    """A student whose cached profile is broken (not a hash: every command on it fails)
    gets the error; the rest of the batch is recorded."""
    redis = services.redis
    assert isinstance(redis, Redis)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    await warm(services, session.code)
    broken = 83_005
    await redis.set(keys.profile(broken), "not a hash")
    hall = range(83_000, 83_010)
    answers = await asyncio.gather(
        *(
            services.checkins.check_in_on_arrival(UserProfile(s, "S"), 6_000 + s, session.code)
            for s in hall
        ),
        return_exceptions=True,
    )
    failed = {s: a for s, a in zip(hall, answers, strict=True) if isinstance(a, BaseException)}
    assert list(failed) == [broken]
    assert isinstance(failed[broken], ResponseError) and "WRONGTYPE" in str(failed[broken])
    assert set(await services.live.checkins.checked_in(session.id)) == {1, *hall} - {broken}


async def test_arrivals_after_redis_lost_its_scripts(services: Services) -> None:
    """A Redis restart empties its script cache: the batch loads the script again."""
    redis = services.redis
    assert isinstance(redis, Redis)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
    await warm(services, session.code)
    await redis.script_flush()
    hall = range(84_000, 84_020)
    answers = await asyncio.gather(
        *(
            services.checkins.check_in_on_arrival(UserProfile(s, "S"), 7_000 + s, session.code)
            for s in hall
        )
    )
    assert all(r is not None and r.outcome is CheckInOutcome.RECORDED for _, r in answers)
    assert await services.live.checkins.checkin_count(session.id) == 21
