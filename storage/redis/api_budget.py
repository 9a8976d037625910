"""Requests per API token and fixed window, counted in Redis so every process shares them
(`take_api_request.lua` over `keys.api_requests`). Implements `ApiRequestBudget`."""

from __future__ import annotations

from datetime import datetime

from storage.redis import keys
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts


class RedisApiBudget:
    """A fixed window per token: simple, one round trip, and at most twice the budget across
    a window's edge (fine for protecting the database from a runaway integration)."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts

    async def take_api_request(
        self, token_id: int, *, limit: int, window_seconds: int, now: datetime
    ) -> float | None:
        now_ms = int(now.timestamp() * 1000)
        window_ms = window_seconds * 1000
        window = now_ms // window_ms
        async with redis_guard():
            count = await self._scripts.take_api_request(
                keys=[keys.api_requests(token_id, window)], args=[limit, window_ms]
            )
        if int(count) <= limit:
            return None
        return ((window + 1) * window_ms - now_ms) / 1000.0
