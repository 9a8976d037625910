"""The asyncpg pool, and what its failures look like to the services.

Every store in this package runs its SQL inside `pg_guard`, so a lost or refused connection
reaches the services as `StorageUnavailable("PostgreSQL")` and never as an asyncpg error.
The pool needs no custom codecs: every column maps to a builtin asyncpg type.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

STARTUP_WAIT_SECONDS = 30.0

_UNAVAILABLE = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    TimeoutError,
)


@asynccontextmanager
async def pg_guard() -> AsyncIterator[None]:
    """Turn "PostgreSQL cannot be reached" into `StorageUnavailable`; other errors pass."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StorageUnavailable("PostgreSQL") from exc


async def connect_postgres(url: str, size: int, wait: float = STARTUP_WAIT_SECONDS) -> asyncpg.Pool:
    """Open the pool, waiting a little for a server that is still starting."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=size, command_timeout=30, timeout=5
            )
            assert pool is not None
            return pool
        except (OSError, asyncpg.exceptions.CannotConnectNowError, TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("PostgreSQL not reachable yet; retrying")
            await asyncio.sleep(1.0)
