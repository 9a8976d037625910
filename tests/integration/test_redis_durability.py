"""The start-up warning when Redis may lose live state: eviction allowed, or nothing on disk."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.bootstrap import build_services, make_redis, warn_if_redis_may_lose_data
from services.clock import ManualClock
from storage.embedded import start_embedded_redis
from tests.conftest import make_settings
from tests.support.redis_cluster import LocalRedisServer

EVICTS = "maxmemory-policy"
NOTHING_ON_DISK = "keeps nothing on disk"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.bootstrap" and r.levelno == logging.WARNING
    ]


async def check(url: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    client = make_redis(url, 8)
    try:
        with caplog.at_level(logging.INFO, logger="bot.bootstrap"):
            await warn_if_redis_may_lose_data(client)
    finally:
        await client.aclose()
        if isinstance(client, Redis):
            await client.connection_pool.disconnect()
    return warnings_of(caplog)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalRedisServer]:
    node = LocalRedisServer(tmp_path / "redis", list(request.param))
    try:
        yield node
    finally:
        node.stop()


async def test_build_services_warns_about_the_suites_redis_exactly_when_it_keeps_nothing(
    redis_url: str, clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The machine's Redis (appendonly no, save "") warns; the embedded one (AOF) does not."""
    probe = Redis.from_url(redis_url)
    try:
        config = {
            **await probe.config_get("appendonly"),
            **await probe.config_get("save"),
            **await probe.config_get("maxmemory-policy"),
        }
    finally:
        await probe.aclose()
    with caplog.at_level(logging.INFO, logger="bot.bootstrap"):
        services = await build_services(
            make_settings(), redis_url, clean_database, clock=ManualClock()
        )
    await services.close()
    found = warnings_of(caplog)
    keeps_nothing = config["appendonly"] == "no" and not config["save"].strip()
    assert any(NOTHING_ON_DISK in w for w in found) == keeps_nothing, (config, found)
    evicts = config["maxmemory-policy"] != "noeviction"
    assert any(EVICTS in w for w in found) == evicts, (config, found)


@pytest.mark.parametrize(
    "server", [['save ""', "appendonly no", "maxmemory-policy allkeys-lru"]], indirect=True
)
async def test_evicting_memory_only_redis_gets_both_warnings(
    server: LocalRedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    found = await check(server.url, caplog)
    assert len(found) == 2
    assert "maxmemory-policy allkeys-lru" in found[0] and "noeviction" in found[0]
    assert NOTHING_ON_DISK in found[1] and "restart loses live check-ins" in found[1]


@pytest.mark.parametrize(
    "server",
    [
        ["save 3600 1", "appendonly no", "maxmemory-policy noeviction"],
        ['save ""', "appendonly yes", "maxmemory-policy noeviction"],
    ],
    indirect=True,
    ids=["snapshots", "append-only"],
)
async def test_redis_that_keeps_data_and_never_evicts_gets_no_warning(
    server: LocalRedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert await check(server.url, caplog) == []


async def test_embedded_redis_gets_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedded = start_embedded_redis(tmp_path)
    try:
        assert await check(embedded.url, caplog) == []
    finally:
        embedded.stop()


@pytest.mark.parametrize("server", [['rename-command CONFIG ""', 'save ""']], indirect=True)
async def test_redis_without_config_command_is_noted_at_info(
    server: LocalRedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert await check(server.url, caplog) == []
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("could not check Redis" in m for m in infos), infos


async def test_every_cluster_primary_is_checked(
    redis_cluster_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_redis(redis_cluster_url, 8, cluster=True)
    assert isinstance(client, RedisCluster)
    try:
        await client.initialize()
        node = client.get_primaries()[1]
        await client.config_set("maxmemory-policy", "volatile-lru", target_nodes=node)
        try:
            with caplog.at_level(logging.INFO, logger="bot.bootstrap"):
                await warn_if_redis_may_lose_data(client)
        finally:
            await client.config_set("maxmemory-policy", "noeviction", target_nodes=node)
    finally:
        await client.aclose()
    [warning] = warnings_of(caplog)
    assert f"Redis node {node.name} has maxmemory-policy volatile-lru" in warning
