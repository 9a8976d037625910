"""Update claims as a per-user sliding window, on a real Redis server and on a real Redis
Cluster: the window is one field of the user's profile hash (one slot with the profile and the
lock-out), stays compact however many updates pass, and drops duplicates from several
processes at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from services.models import UserProfile
from storage.redis import build_live_stores, keys
from storage.redis.client import LiveRedis
from storage.redis.profiles import RedisProfileCache
from storage.redis.scripts import Scripts

pytestmark = pytest.mark.servers

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def profiles_on(client: LiveRedis) -> RedisProfileCache:
    """One process's profile cache (its own script objects and floor cache)."""
    store = build_live_stores(Scripts(client)).profiles
    assert isinstance(store, RedisProfileCache)
    return store


async def duplicates(
    store: RedisProfileCache, user: int, ids: list[int], at: datetime
) -> list[bool]:
    profile = UserProfile(user, "Ada", last_seen=at)
    return [(await store.touch_profile(profile, update_id)).duplicate for update_id in ids]


async def exercise(client: LiveRedis) -> None:
    """Duplicates, reordering, too old, release and redelivery, three processes at once."""
    first, second = profiles_on(client), profiles_on(client)
    assert await duplicates(first, 5, [2_000_000_105, 2_000_000_101], START) == [False, False]
    assert await duplicates(second, 5, [2_000_000_101, 2_000_000_103], START) == [True, False]
    await second.release_update_claim(5, update_id=2_000_000_103)
    assert await duplicates(first, 5, [2_000_000_103, 2_000_000_103], START) == [False, True]
    later = START + timedelta(seconds=keys.UPDATE_WINDOW_QUIET_SECONDS)
    assert await duplicates(first, 5, [2_000_000_110, 2_000_000_104], later) == [False, True]
    visits = await asyncio.gather(
        *(
            store.touch_profile(UserProfile(6, "B", last_seen=START), 2_000_000_200)
            for store in (first, second, profiles_on(client))
        )
    )
    assert sorted(v.duplicate for v in visits) == [False, True, True]


async def test_the_window_on_one_server_stays_compact(clean_redis: Redis) -> None:
    await exercise(clean_redis)
    store = profiles_on(clean_redis)
    for step in range(1_000):  # a very busy user: one update a second for 1,000 s
        at = START + timedelta(seconds=step)
        assert await duplicates(store, 7, [3_000_000_000 + step], at) == [False]
    window = await clean_redis.hget(keys.profile(7), "upd")
    assert window is not None and len(window.split()) == keys.UPDATE_WINDOW_IDS + 1
    # Short values keep the profile compact: a listpack (Redis 7; a ziplist on the embedded
    # Redis 6.2), a few bytes per field, not a hash table.
    assert await clean_redis.object("encoding", keys.profile(7)) in (b"listpack", b"ziplist")
    assert await clean_redis.keys("attn:u:*:upd*") == []
    # The whole cost of a user's window: one field of the profile, under 80 bytes.
    await store.touch_profile(UserProfile(8, "Ada", last_seen=START))  # no update id
    with_window = int(await clean_redis.memory_usage(keys.profile(7), samples=0) or 0)
    without = int(await clean_redis.memory_usage(keys.profile(8), samples=0) or 0)
    assert 0 < with_window - without < 80, (with_window, without)


async def test_the_window_on_a_cluster_lives_in_the_users_slot(redis_cluster_url: str) -> None:
    cluster = RedisCluster.from_url(redis_cluster_url)
    try:
        for node in cluster.get_primaries():
            await cluster.flushdb(target_nodes=node)
        await exercise(cluster)
    finally:
        await cluster.aclose()
