"""Short-lived state of a conversation: the pending prompt (`pop_pending_action.lua`), a
/start choice and the command menu last set. Implements `ChatStateStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.clock import to_ms
from storage.redis import keys
from storage.redis.codec import text
from storage.redis.errors import redis_guard
from storage.redis.scripts import Scripts


class RedisChatStateStore:
    """Per-user conversation state, each key with a short safety TTL."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._redis = scripts.redis

    async def set_pending_action(
        self, user_id: int, action: str, *, until: datetime, payload: str = ""
    ) -> None:
        async with redis_guard():
            await self._redis.set(
                keys.pending_action(user_id),
                f"{action} {to_ms(until)} {payload}",
                ex=keys.PENDING_ACTION_TTL,
            )

    async def pop_pending_action(
        self, user_id: int, now: datetime, only: Sequence[str] = ()
    ) -> tuple[str, str] | None:
        """(action, payload) if one is pending and not expired; removed either way. With
        `only`, an action not among those is left pending and None is returned."""
        async with redis_guard():
            value = await self._scripts.pop_pending_action(
                keys=[keys.pending_action(user_id)], args=[to_ms(now), *only]
            )
        if not value:
            return None
        action, _, payload = text(value).partition(" ")
        return action, payload

    async def put_start_choice(self, user_id: int, *, token: str, value: str) -> None:
        async with redis_guard():
            await self._redis.set(
                keys.start_choice(user_id, token), value, ex=keys.PENDING_ACTION_TTL
            )

    async def take_start_choice(self, user_id: int, token: str) -> str | None:
        """The stored choice, for exactly one caller (GET and DEL in one MULTI)."""
        key = keys.start_choice(user_id, token)
        async with redis_guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.delete(key)
            value, _ = await pipe.execute()
        return text(value) if value is not None else None

    async def menu_version(self, user_id: int) -> str | None:
        """The version of the command menu last set in the user's private chat, if any."""
        async with redis_guard():
            value = await self._redis.get(keys.menu(user_id))
        return None if value is None else text(value)

    async def remember_menu(self, user_id: int, version: str | None) -> None:
        """Remember the menu just set (None: the chat's own menu was removed)."""
        async with redis_guard():
            if version is None:
                await self._redis.delete(keys.menu(user_id))
            else:
                await self._redis.set(keys.menu(user_id), version, ex=keys.MENU_TTL)
