"""The readiness check of PostgreSQL, apart from the stores that hold records."""

from __future__ import annotations

import asyncpg

from storage.postgres.pool import pg_guard


class PostgresPing:
    """Answers `services.health.Pingable` for PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """Raise StorageUnavailable unless PostgreSQL answers `SELECT 1`."""
        async with pg_guard():
            await self._pool.fetchval("SELECT 1")
