"""Integration fixtures: a local three-master Redis Cluster, started once per run, and
cuttable proxies in front of the servers (real outages)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from bot.bootstrap import build_services
from bot.container import Services
from services.clock import ManualClock
from tests.conftest import make_settings
from tests.support.redis_cluster import start_local_cluster
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """redis://127.0.0.1:<port> of one node of a fresh cluster on loopback ports."""
    cluster = start_local_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
async def proxies(
    redis_url: str, clean_redis: Redis, clean_database: str
) -> AsyncIterator[tuple[TcpProxy, TcpProxy]]:
    """Cuttable loopback proxies in front of Redis and PostgreSQL: real outages, no mocks."""
    redis_proxy = await TcpProxy.for_url(redis_url).start()
    pg_proxy = await TcpProxy.for_url(clean_database).start()
    yield redis_proxy, pg_proxy
    await redis_proxy.close()
    await pg_proxy.close()


@pytest.fixture
async def proxied_services(
    proxies: tuple[TcpProxy, TcpProxy], redis_url: str, clean_database: str, clock: ManualClock
) -> AsyncIterator[Services]:
    """The real services, connected through the proxies."""
    redis_proxy, pg_proxy = proxies
    services = await build_services(
        make_settings(),
        redis_proxy.proxied_url(redis_url),
        pg_proxy.proxied_url(clean_database),
        clock=clock,
    )
    yield services
    await services.close()
