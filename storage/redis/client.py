"""The Redis Cluster client ATTN uses, and the start-up check of a server's durability settings.

Why a subclass: redis-py's asyncio `RedisCluster` keeps a pool per node that *raises*
`MaxConnectionsError` at its cap, where the standalone client uses a `BlockingConnectionPool`
that waits. A burst of check-ins must wait for a connection, not fail, so every command and
pipeline first takes one of `max_connections` permits (waiting up to `pool_timeout`). A command
holds at most one connection per node, so no node's pool ever reaches its cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterPipeline, RedisCluster

from services.errors import StorageUnavailable
from storage.redis.errors import UNAVAILABLE

# Either client: the live store runs unchanged on both.
LiveRedis = Redis | RedisCluster

# Set while a task holds a permit: a pipeline that falls back to single commands (after a
# MOVED/ASK redirect) must not wait for a second permit, or a full gate would deadlock.
_HOLDS_PERMIT: ContextVar[bool] = ContextVar("attn_cluster_permit", default=False)


class BlockingRedisCluster(RedisCluster):
    """`RedisCluster` whose callers wait for a free connection instead of failing at the cap."""

    def __init__(
        self, *, max_connections: int = 100, pool_timeout: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(max_connections=max_connections, **kwargs)
        self._permits = asyncio.Semaphore(max_connections)
        self._pool_timeout = pool_timeout

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        """Hold one of the `max_connections` permits (re-entrant within a task)."""
        if _HOLDS_PERMIT.get():
            yield
            return
        try:
            await asyncio.wait_for(self._permits.acquire(), self._pool_timeout)
        except TimeoutError:
            raise redis_errors.ConnectionError("No connection available.") from None
        token = _HOLDS_PERMIT.set(True)
        try:
            yield
        finally:
            _HOLDS_PERMIT.reset(token)
            self._permits.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.permit():
            return await super().execute_command(*args, **kwargs)

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> ClusterPipeline:
        if shard_hint:
            raise redis_errors.RedisClusterException("shard_hint is deprecated in cluster mode")
        return _PermitPipeline(self, transaction)  # type: ignore[abstract]


class _PermitPipeline(ClusterPipeline):
    """A cluster pipeline that runs under one permit of its client."""

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        client = self.cluster_client
        assert isinstance(client, BlockingRedisCluster)
        async with client.permit():
            return await super().execute(raise_on_error, allow_redirections)


async def _node_config(client: LiveRedis, node: Any | None) -> dict[str, str]:
    """maxmemory-policy, appendonly and save of one server (CONFIG GET takes one pattern on 6.2)."""
    values: dict[str, str] = {}
    for name in ("maxmemory-policy", "appendonly", "save"):
        if node is None:
            reply = await client.config_get(name)
        else:
            assert isinstance(client, RedisCluster)
            reply = await client.config_get(name, target_nodes=node)
        for key, value in reply.items():
            values[_text(key)] = _text(value)
    return values


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def durability_problems(client: LiveRedis) -> list[str]:
    """Why this Redis may lose live state: eviction allowed, or nothing kept on disk.

    Every primary of a cluster is checked. Raises `redis.exceptions.ResponseError` when the
    server refuses CONFIG (managed services often do).
    """
    if isinstance(client, RedisCluster):
        await client.initialize()
        targets: list[tuple[str, Any | None]] = [
            (f"Redis node {node.name}", node) for node in client.get_primaries()
        ]
    else:
        targets = [("Redis", None)]
    problems = []
    for label, node in targets:
        config = await _node_config(client, node)
        policy = config.get("maxmemory-policy", "")
        if policy and policy != "noeviction":
            problems.append(
                f"{label} has maxmemory-policy {policy}: when memory runs short it may evict "
                "live sessions and check-ins; set maxmemory-policy noeviction"
            )
        if config.get("appendonly") == "no" and not config.get("save", "").strip():
            problems.append(
                f'{label} keeps nothing on disk (appendonly no, save ""): a Redis restart '
                "loses live check-ins; set appendonly yes"
            )
    return problems


class RedisHealth:
    """The readiness check of the live store (see `services.health`)."""

    def __init__(self, client: LiveRedis) -> None:
        self._client = client

    async def ping(self) -> None:
        """Raise StorageUnavailable unless Redis answers PING."""
        try:
            await self._client.ping()
        except UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
