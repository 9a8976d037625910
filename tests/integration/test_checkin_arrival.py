"""/checkin updates on the real servers: one Redis round trip each on one server (the visit
and the check-in as one script), two on a Redis Cluster (the user's and the session's keys
live in different slots), and on both every update is handled once however often it is
delivered, at once, to several processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from bot.bootstrap import build_services
from bot.container import Services
from services.clock import ManualClock
from services.errors import StorageUnavailable
from services.models import CheckInOutcome, UserProfile
from storage.redis import keys
from tests.conftest import TEACHER_ID, empty_database, make_settings
from tests.support.redis_commands import commands_sent
from tests.support.tcp_proxy import TcpProxy

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
    with commands_sent() as sent:
        visit, result = await services.checkins.check_in_on_arrival(
            UserProfile(2, "Ada"), 2, session.code
        )
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
    hall = range(82_000, 82_100)
    with commands_sent() as sent:
        answers = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(
                    UserProfile(s, f"S{s}"), 5_000 + s, session.code
                )
                for s in hall
            )
        )
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
    hall = range(85_000, 85_050)
    with commands_sent() as sent:
        answers = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(UserProfile(s, "S"), 8_000 + s, session.code)
                for s in hall
            )
        )
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


class ReplyDroppingProxy(TcpProxy):
    """A proxy that, once armed, lets the next batch of arrivals reach Redis and then cuts
    the connection before Redis's reply gets back (a network fault at the worst moment):
    the batch ran, and the client cannot know it."""

    def __init__(self, target_host: str, target_port: int, unix_path: str | None = None) -> None:
        super().__init__(target_host, target_port, unix_path)
        self.armed = False
        self.dropped = asyncio.Event()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._open_upstream(writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        batch_sent = False

        async def upstream() -> None:
            nonlocal batch_sent
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    if self.armed and b"EVALSHA" in data and b"\r\n$1\r\n0\r\n" in data:
                        batch_sent = True  # (a batch declares no keys)
                    up_writer.write(data)
                    await up_writer.drain()
            up_writer.close()

        async def downstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await up_reader.read(65536):
                    if batch_sent and self.armed:
                        self.armed = False
                        writer.transport.abort()  # the reply never arrives
                        up_writer.close()
                        self.dropped.set()
                        return
                    writer.write(data)
                    await writer.drain()
            writer.close()

        for task in (asyncio.create_task(upstream()), asyncio.create_task(downstream())):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def test_a_batch_whose_reply_was_lost_is_not_sent_again(
    redis_url: str, clean_redis: Redis, clean_database: str, clock: ManualClock
) -> None:
    """The batch ran, its reply was lost: every student of it hears that Redis is
    unavailable (and is asked to try again), and their next try finds their check-in.
    Sent again by the client's retry, the batch found its own claims and answered every
    one of them as a duplicate update: recorded, and never told."""
    proxy = ReplyDroppingProxy.for_url(redis_url)
    assert isinstance(proxy, ReplyDroppingProxy)
    await proxy.start()
    services = await build_services(
        make_settings(), proxy.proxied_url(redis_url), clean_database, clock=clock
    )
    try:
        session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 60)
        await warm(services, session.code)
        hall = range(86_000, 86_030)
        proxy.armed = True
        answers = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(UserProfile(s, "S"), 9_000 + s, session.code)
                for s in hall
            ),
            return_exceptions=True,
        )
        assert proxy.dropped.is_set()
        assert all(isinstance(a, StorageUnavailable) for a in answers), answers
        assert await services.live.checkins.checkin_count(session.id) == 31  # it did run
        # Told to try again, each sends /checkin again (a new update): already checked in.
        again = await asyncio.gather(
            *(
                services.checkins.check_in_on_arrival(UserProfile(s, "S"), 19_000 + s, session.code)
                for s in hall
            )
        )
        assert all(r is not None and r.outcome is CheckInOutcome.DUPLICATE for _, r in again)
    finally:
        await services.close()
        await proxy.close()
