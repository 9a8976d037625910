"""Projector links' generation (`new_projector_link.lua`) and the live-state channel
(`keys.live_channel`), read by one subscriber per process. Implements `ProjectorStore`.

The Lua scripts publish a session's id whenever what its projector page shows changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from services.errors import StorageUnavailable
from storage.redis import keys
from storage.redis.codec import text
from storage.redis.errors import UNAVAILABLE, redis_guard
from storage.redis.scripts import Scripts

# How long one read waits before looking again (the connection's health check runs then).
_READ_SECONDS = 5.0


class RedisProjectorStore:
    """The generation in the session hash (`projector_gen`); session ids from
    `keys.live_channel()`, on one pub/sub connection per iteration of `changes`."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._redis = scripts.redis

    async def new_projector_generation(self, session_id: str) -> int:
        async with redis_guard():
            generation = await self._scripts.new_projector_link(keys=[keys.session(session_id)])
        return int(generation)

    async def changes(self) -> AsyncGenerator[str, None]:
        """Yields until the caller stops iterating; `StorageUnavailable` when the connection
        is lost (messages published meanwhile are gone: the caller reads the state again)."""
        # On a cluster, a message published on any node reaches every node: one is enough.
        pubsub = self._redis.pubsub()
        try:
            try:
                await pubsub.subscribe(keys.live_channel())
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=_READ_SECONDS
                    )
                    if message is not None and message.get("type") == "message":
                        yield text(message["data"])
            except UNAVAILABLE as exc:
                raise StorageUnavailable("Redis") from exc
        finally:
            with contextlib.suppress(*UNAVAILABLE, TimeoutError):
                if pubsub.connection is not None:
                    await asyncio.wait_for(pubsub.unsubscribe(), 1.0)
            with contextlib.suppress(*UNAVAILABLE):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
