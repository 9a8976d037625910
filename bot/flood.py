"""Telegram's flood limits, kept on our side so a burst delays replies instead of losing them.

python-telegram-bot's `AIORateLimiter` paces all requests (30 a second) and each group (20 a
minute) and retries after a 429, but does not pace a private chat; Telegram allows about one
message a second per chat. This limiter adds that, per attempt, so a retried request also
keeps its distance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Telegram's 20 a minute in a group is about messages the bot puts there. A deletion puts
# nothing there (the bot deletes the code-bearing posts of students checking in from a
# group), so it takes no turn from the group's budget and never makes a card edit or a
# reply there wait behind it; it still counts against the bot's 30 a second. Edits do take
# turns: Telegram answers 429 to frequent edits in a group, and a card is edited at most
# once per refresh interval anyway.
NOT_POSTING = frozenset({"deleteMessage", "deleteMessages"})
_off_group_budget: ContextVar[bool] = ContextVar("attn_off_group_budget", default=False)


@asynccontextmanager
async def null_context() -> AsyncIterator[None]:
    yield


class FloodLimiter(AIORateLimiter):
    """`AIORateLimiter` plus one message a second to any one private chat."""

    MAX_CHATS = 4096

    def __init__(self, max_retries: int = 8, private_chat_per_second: float = 1.0) -> None:
        # aiolimiter's buckets hold `max_rate` and drain at max_rate/period, so a window of
        # one period can see up to twice max_rate. A bucket of one that drains evenly keeps
        # every window of a second (a minute for groups) within Telegram's numbers.
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / 29,
            group_max_rate=1,
            group_time_period=60 / 19,
            max_retries=max_retries,
        )
        self._per_chat_period = 1.05 / private_chat_per_second
        self._shared_wait: Callable[[int | None], Awaitable[float]] | None = None
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > self.MAX_CHATS:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(1):
                    del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = AsyncLimiter(1, self._per_chat_period)
        return self._chats[chat_id]

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> JSONResult:
        """Like AIORateLimiter's, but a request that got its turn while a 429 paused
        everything waits for the pause and takes a new turn, instead of firing together with
        every other request that queued up meanwhile (which breaks 30 a second).

        Relies on AIORateLimiter's internals (python-telegram-bot 22.x).
        """
        if allow_paid_broadcast:
            return await super()._run_request(
                chat, group, allow_paid_broadcast, callback, args, kwargs
            )
        while True:
            await self._retry_after_event.wait()
            base = self._base_limiter if (chat and self._base_limiter) else null_context()
            group_limit = (
                self._get_group_limiter(group)
                if group and self._group_max_rate and not _off_group_budget.get()
                else null_context()
            )
            async with group_limit, base:
                if self._retry_after_event.is_set():
                    return await callback(*args, **kwargs)

    def attach(self, shared_wait: Callable[[int | None], Awaitable[float]]) -> None:
        """Also take a turn from the deployment-wide pacer (shared by every bot process)."""
        self._shared_wait = shared_wait

    async def _shared_turn(self, chat_id: int | None) -> None:
        """Wait for a slot that every process respects; on its own if the store is away."""
        if self._shared_wait is None:
            return
        while True:
            try:
                wait = await self._shared_wait(chat_id)
            except StorageUnavailable:
                log.warning("shared flood pacing unavailable; pacing this process alone")
                return
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        raw_chat = data.get("chat_id")
        try:
            chat_id: int | None = int(raw_chat) if raw_chat is not None else None
        except (TypeError, ValueError):
            chat_id = None
        sends = raw_chat is not None  # only messages to a chat count against the limits
        limiter = self._chat_limiter(chat_id) if chat_id is not None and chat_id > 0 else None
        off_group_budget = endpoint in NOT_POSTING and chat_id is not None and chat_id < 0
        # The deployment-wide pacer counts a group deletion for the bot's 30 a second only.
        shared_chat = None if off_group_budget else chat_id

        async def paced(*call_args: Any, **call_kwargs: Any) -> JSONResult:
            if limiter is not None:
                async with limiter:
                    if sends:
                        await self._shared_turn(shared_chat)
                    return await callback(*call_args, **call_kwargs)
            if sends:
                await self._shared_turn(shared_chat)
            return await callback(*call_args, **call_kwargs)

        token = _off_group_budget.set(off_group_budget)
        try:
            return await super().process_request(
                paced, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            _off_group_budget.reset(token)
