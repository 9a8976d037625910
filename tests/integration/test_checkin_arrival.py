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

from bot.bootstrap import build_services
from bot.container import Services
from services.clock import ManualClock
from services.models import CheckInOutcome, UserProfile
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
