"""Check-in codes: the code -> session routes (with a short in-process cache) and the
rotation of codes (`rotate_code.lua`). Implements `CodeStore`."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from services.clock import to_ms
from storage.redis import keys
from storage.redis.codec import text
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts

# Code -> session routing changes only when a session starts or ends, and the check-in script
# re-checks the code against the session, so a briefly stale entry is harmless: it costs one
# extra lookup, never a wrong record.
_CODE_CACHE_SECONDS = 2.0


class CodeRoutes:
    """Which session a code names (`keys.code`), cached for a moment in this process.

    One instance is shared by the check-in, session and sweep stores: check-ins read it,
    discarding and sweeping a session forget its codes.
    """

    def __init__(self, scripts: Scripts) -> None:
        self._redis = scripts.redis
        self._cache: dict[str, tuple[str, float]] = {}
        self._in_flight: dict[str, asyncio.Future[str | None]] = {}

    def cached(self, code: str) -> str | None:
        """The session of `code` if this process looked it up a moment ago (no round trip)."""
        cached = self._cache.get(code)
        if cached and time.monotonic() - cached[1] < _CODE_CACHE_SECONDS:
            return cached[0]
        return None

    async def resolve(self, code: str, fresh: bool) -> str | None:
        """The session of `code` (from the cache unless `fresh`); None when no session has it.
        Redis errors pass through (the caller guards).

        When a cached route goes stale, the first caller looks it up again and the others
        keep the route meanwhile: a code a whole class is typing costs one lookup per
        refresh, not one per check-in in flight; a code nobody has looked up yet costs one
        lookup for all the check-ins that arrive while it runs."""
        now = time.monotonic()
        cached = self._cache.get(code)
        if cached and not fresh:
            if now - cached[1] < _CODE_CACHE_SECONDS:
                return cached[0]
            self._cache[code] = (cached[0], now)
        if not fresh:
            # A whole class typing a new code at once: one lookup, the others share it.
            pending = self._in_flight.get(code)
            if pending is not None:
                try:
                    return await asyncio.shield(pending)
                except asyncio.CancelledError:
                    if not pending.cancelled():
                        raise  # this caller was cancelled
                    # the first caller was: look it up here
        lookup: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._in_flight.setdefault(code, lookup)
        try:
            session_id = await self._lookup(code)
        except asyncio.CancelledError:
            lookup.cancel()
            raise
        except Exception as exc:
            lookup.set_exception(exc)
            lookup.exception()  # marked retrieved: the sharers re-raise it, if any
            raise
        else:
            lookup.set_result(session_id)
            return session_id
        finally:
            if self._in_flight.get(code) is lookup:
                del self._in_flight[code]

    async def _lookup(self, code: str) -> str | None:
        value = await self._redis.get(keys.code(code))
        if value is None:
            self._cache.pop(code, None)
            return None
        session_id = text(value)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[code] = (session_id, time.monotonic())
        return session_id

    def forget(self, code: str) -> None:
        """Drop the cached route of a code whose session is gone."""
        self._cache.pop(code, None)


class RedisCodeStore:
    """Rotating codes: the rotation index (`keys.rotation_index`) and the swap itself."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._redis = scripts.redis

    async def due_rotations(self, now: datetime, limit: int) -> list[str]:
        async with redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.rotation_index(), "-inf", to_ms(now), start=0, num=limit
            )
        return [text(i) for i in ids]

    async def rotate_codes(self, now: datetime, new_codes: dict[str, str]) -> dict[str, str]:
        """Rotate each session's code to the drawn one if due; returns {session: new code}.

        Each drawn code is reserved with SET NX on its lookup key first, so no two live
        sessions ever share one; a code that cannot be reserved, or is not used because the
        rotation was not due, is simply not rotated in (the session is retried next time).
        Batched: three pipelined round trips however many sessions are due.
        """
        ttl = keys.SESSION_SAFETY_TTL
        now_ms = to_ms(now)
        items = list(new_codes.items())
        async with redis_guard():
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id, code in items:
                    pipe.set(keys.code(code), session_id, nx=True, ex=ttl)
                reserved = await pipe.execute()
            ready = [item for item, ok in zip(items, reserved, strict=True) if ok]
            outcomes = await self._scripts.batch(
                self._scripts.rotate_code,
                [
                    ([keys.session(sid), keys.session_codes(sid)], [code, now_ms])
                    for sid, code in ready
                ],
            )
            rotated: dict[str, str] = {}
            async with self._redis.pipeline(transaction=False) as pipe:
                for (session_id, code), (outcome, due) in zip(ready, outcomes, strict=True):
                    name = text(outcome)
                    if name == "rotated":
                        rotated[session_id] = code
                        pipe.zadd(keys.rotation_index(), {session_id: int(due)})
                    else:
                        pipe.delete(keys.code(code))
                        if name == "closed":
                            pipe.zrem(keys.rotation_index(), session_id)
                        else:
                            pipe.zadd(keys.rotation_index(), {session_id: int(due)})
                await pipe.execute()
        return rotated
