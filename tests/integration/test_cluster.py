"""The check-in, sweep and session-start integration tests once more, on a local three-master
Redis Cluster.

The scenarios are the very functions of `test_attendance_loop` (and the code-rotation ones of
`test_codes`), collected here a second time: this module overrides `redis_url` with the
cluster started by the test run (and, through the environment, puts every `Settings` built
here in cluster mode) and `clean_redis` with a cluster client on emptied primaries, so the
shared `services` fixture and the tests' own `build_services` calls run on the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from bot.bootstrap import build_services
from services.clock import ManualClock
from services.models import CheckInOutcome
from storage.redis import keys
from storage.redis.client import BlockingRedisCluster
from tests.conftest import TEACHER_ID, make_settings
from tests.integration.test_attendance_loop import (
    check_in_class,
)
from tests.integration.test_attendance_loop import (
    test_500_concurrent_check_ins_are_recorded_once_and_swept as test_500_concurrent_check_ins_are_recorded_once_and_swept,  # noqa: E501
)
from tests.integration.test_attendance_loop import (
    test_sweep_failing_before_commit_stores_nothing_then_everything as test_sweep_failing_before_commit_stores_nothing_then_everything,  # noqa: E501
)
from tests.integration.test_attendance_loop import (
    test_sweep_killed_after_commit_is_finished_by_the_next_run as test_sweep_killed_after_commit_is_finished_by_the_next_run,  # noqa: E501
)
from tests.integration.test_attendance_loop import (
    test_two_sweepers_persist_20_sessions_once_with_20_summaries as test_two_sweepers_persist_20_sessions_once_with_20_summaries,  # noqa: E501
)
from tests.integration.test_attendance_loop import (
    test_user_sweep_persists_idle_profile_and_restores_it as test_user_sweep_persists_idle_profile_and_restores_it,  # noqa: E501
)
from tests.integration.test_codes import (
    test_code_accepted_in_its_step_and_grace_then_expired as test_code_accepted_in_its_step_and_grace_then_expired,  # noqa: E501
)
from tests.integration.test_codes import (
    test_five_wrong_codes_lock_for_ten_minutes as test_five_wrong_codes_lock_for_ten_minutes,
)
from tests.integration.test_forget_live import (
    test_forget_leaves_live_rosters_and_drops_every_key as test_forget_leaves_live_rosters_and_drops_every_key,  # noqa: E501
)
from tests.integration.test_lockout import (
    test_30_simultaneous_wrong_guesses_judge_at_most_5 as test_30_simultaneous_wrong_guesses_judge_at_most_5,  # noqa: E501
)
from tests.integration.test_lockout import (
    test_30_wrong_guesses_over_3_processes_judge_at_most_5 as test_30_wrong_guesses_over_3_processes_judge_at_most_5,  # noqa: E501
)
from tests.integration.test_session_starts import (
    test_a_stale_slot_is_taken_over_by_exactly_one_start as test_a_stale_slot_is_taken_over_by_exactly_one_start,  # noqa: E501
)
from tests.integration.test_session_starts import (
    test_twenty_concurrent_starts_open_exactly_one_session as test_twenty_concurrent_starts_open_exactly_one_session,  # noqa: E501
)


@pytest.fixture
def redis_url(redis_cluster_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The cluster; `make_settings()` and every other Settings here read cluster mode."""
    monkeypatch.setenv("ATTN_REDIS_URL", redis_cluster_url)
    monkeypatch.setenv("ATTN_REDIS_CLUSTER", "true")
    return redis_cluster_url


@pytest.fixture
async def clean_redis(redis_url: str) -> AsyncIterator[RedisCluster]:
    """A cluster client, every primary flushed."""
    client = RedisCluster.from_url(redis_url)
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    await client.aclose()


async def keys_per_node(client: RedisCluster) -> dict[str, int]:
    return {
        node.name: int(await client.dbsize(target_nodes=node)) for node in client.get_primaries()
    }


async def test_services_use_the_cluster_client_and_keys_spread_over_three_masters(
    redis_url: str, clean_redis: RedisCluster, clean_database: str, clock: ManualClock
) -> None:
    teachers = range(3000, 3012)
    settings = make_settings(teacher_ids=list(teachers))
    assert settings.redis_cluster
    services = await build_services(settings, redis_url, clean_database, clock=clock)
    try:
        assert isinstance(services.redis, BlockingRedisCluster)
        assert len(services.redis.get_primaries()) == 3
        for teacher in teachers:
            session = await services.sessions.start_session(teacher, teacher, 10)
            # Every key of one session hashes to one slot, so its scripts run on one node.
            slots = {clean_redis.keyslot(k) for k in keys.session_keys(session.id)}
            assert len(slots) == 1
            await check_in_class(services, session.code, range(teacher * 10, teacher * 10 + 5))
        spread = await keys_per_node(clean_redis)
        assert len(spread) == 3 and all(count > 0 for count in spread.values()), spread
    finally:
        await services.close()


async def test_codes_of_40_sessions_rotate_together_across_the_nodes(
    redis_url: str, clean_redis: RedisCluster, clean_database: str, clock: ManualClock
) -> None:
    teachers = range(4000, 4040)
    settings = make_settings(teacher_ids=list(teachers))
    services = await build_services(settings, redis_url, clean_database, clock=clock)
    try:
        codes = {}
        for teacher in teachers:
            session = await services.sessions.start_session(
                teacher, teacher, 60, rotation_seconds=10
            )
            codes[session.id] = session.code
        for _ in range(5):
            clock.advance(seconds=10)
            rotated = await services.rotation.rotate_due_codes()
            assert set(rotated) == set(codes)
            assert all(rotated[sid] != codes[sid] for sid in codes)
            codes = rotated
            assert len(set(codes.values())) == len(codes)
        student = 77
        for sid, code in list(codes.items())[:10]:
            outcome = (await services.checkins.check_in(student, code)).outcome
            assert outcome is CheckInOutcome.RECORDED, sid
    finally:
        await services.close()


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(
    redis_url: str, clean_redis: RedisCluster, clean_database: str, clock: ManualClock
) -> None:
    services = await build_services(
        make_settings(redis_max_connections=8), redis_url, clean_database, clock=clock
    )
    try:
        session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
        outcomes = await check_in_class(services, session.code, range(100, 400))
        assert (
            len(outcomes) == 300 and await services.live.checkins.checkin_count(session.id) == 300
        )
        assert isinstance(services.redis, RedisCluster)
        for node in services.redis.get_primaries():
            assert len(node._connections) <= 8
    finally:
        await services.close()


async def test_close_leaves_no_open_connection(
    redis_url: str, clean_redis: RedisCluster, clean_database: str, clock: ManualClock
) -> None:
    services = await build_services(make_settings(), redis_url, clean_database, clock=clock)
    await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10)
    client = services.redis
    assert isinstance(client, RedisCluster)
    await services.close()
    await asyncio.sleep(0)
    for node in client.get_nodes():
        assert not any(conn.is_connected for conn in node._connections)
