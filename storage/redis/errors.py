"""Which Redis failures mean "Redis is away", and the guard that turns them into
`StorageUnavailable` (the services know no redis exceptions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import exceptions as redis_errors

from services.errors import StorageUnavailable

UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ClusterDownError,
    ConnectionError,
    OSError,
)


@asynccontextmanager
async def redis_guard() -> AsyncIterator[None]:
    """Raise `StorageUnavailable` when Redis cannot be reached inside the block."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StorageUnavailable("Redis") from exc
