"""Telegram's flood limits, kept on our side so a burst delays replies instead of losing them.

Built on python-telegram-bot's documented extension point (`BaseRateLimiter`), touching no
private attribute of the library. Telegram counts per bot, not per process, so the pacer is
the deployment-wide one in Redis (`SendPacer.reserve_send_slot`, shared by every process):

* every message to a chat: 29 in any 1.1 s overall (Telegram: about 30 a second);
* each group: 19 a minute (Telegram: 20);
* each private chat: one a second (Telegram: about one).

Each process also paces itself evenly in memory with the same numbers (aiolimiter): a group's
messages are spread over its minute, waiters queue here rather than polling Redis, and while
Redis is away (asked again once a second, not once a message) this pace is the only one.

A 429 ("retry after N") holds back only what it concerns: the chat it was answered for (a
flood wait for editing one card too often must not hold every student's "Checked in" in
their own chats), or everything when the request named no chat. The request is then retried
after the wait, up to `max_retries` times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

OVERALL_PER_SECOND = 29
GROUP_PER_MINUTE = 19
PRIVATE_CHAT_PERIOD_SECONDS = 1.05
# Telegram's 20 a minute in a group is about messages the bot puts there. A deletion puts
# nothing there (the bot deletes the code-bearing posts of students checking in from a
# group), so it takes no turn from the group's budget and never makes a card edit or a
# reply there wait behind it; it still counts against the bot's 30 a second. Edits do take
# turns: Telegram answers 429 to frequent edits in a group, and a card is edited at most
# once per refresh interval anyway.
NOT_POSTING = frozenset({"deleteMessage", "deleteMessages"})


class FloodLimiter(BaseRateLimiter[None]):
    """Per-chat, per-group and overall pacing, with flood waits held per chat.

    It takes no per-call arguments (`rate_limit_args`), so the bot stays an `ExtBot[None]`
    with or without it and every context is typed alike."""

    MAX_CHATS = 4096
    # After the shared pacer failed, pace in memory this long before asking Redis again, so
    # an outage costs one failed round trip a second, not one per message.
    SHARED_RETRY_SECONDS = 1.0

    def __init__(self, max_retries: int = 8, private_chat_per_second: float = 1.0) -> None:
        # aiolimiter's buckets hold `max_rate` and drain at max_rate/period, so a window of
        # one period can see up to twice max_rate. A bucket of one that drains evenly keeps
        # every window of a second (a minute for groups) within Telegram's numbers.
        self._max_retries = max_retries
        self._overall = AsyncLimiter(1, 1 / OVERALL_PER_SECOND)
        self._group_period = 60 / GROUP_PER_MINUTE
        self._private_period = PRIVATE_CHAT_PERIOD_SECONDS / private_chat_per_second
        self._chats: dict[int | str, AsyncLimiter] = {}
        # Monotonic time until which a chat (or, under the key None, everything) is in a
        # flood wait that Telegram announced with a 429.
        self._paused_until: dict[int | str | None, float] = {}
        self._shared_wait: Callable[[int | None], Awaitable[float]] | None = None
        self._shared_away_until = 0.0  # monotonic; while in the future, pace in memory

    async def initialize(self) -> None:
        """Nothing to open: the limiters live in memory."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def attach(self, shared_wait: Callable[[int | None], Awaitable[float]]) -> None:
        """Also take a turn from the deployment-wide pacer (shared by every bot process)."""
        self._shared_wait = shared_wait

    def _chat_limiter(self, chat: int | str) -> AsyncLimiter:
        """The pacer of one chat: a group's 19 a minute, a private chat's one a second."""
        if len(self._chats) > self.MAX_CHATS:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(1):
                    del self._chats[key]
        if chat not in self._chats:
            is_group = isinstance(chat, str) or chat < 0
            period = self._group_period if is_group else self._private_period
            self._chats[chat] = AsyncLimiter(1, period)
        return self._chats[chat]

    async def _wait_out_pauses(self, chat: int | str | None) -> None:
        """Sleep through a flood wait of this chat or of everything."""
        while True:
            until = max(self._paused_until.get(None, 0.0), self._paused_until.get(chat, 0.0))
            left = until - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(left)

    def _pause(self, chat: int | str | None, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._paused_until[chat] = max(self._paused_until.get(chat, 0.0), until)
        if len(self._paused_until) > self.MAX_CHATS:
            now = time.monotonic()
            for key, value in list(self._paused_until.items()):
                if value < now:
                    del self._paused_until[key]

    async def _shared_turn(self, chat_id: int | None) -> bool:
        """Wait for a slot every process respects; False when the shared pacer is away."""
        if self._shared_wait is None or time.monotonic() < self._shared_away_until:
            return False
        while True:
            try:
                wait = await self._shared_wait(chat_id)
            except StorageUnavailable:
                log.warning("shared flood pacing unavailable; pacing this process alone")
                self._shared_away_until = time.monotonic() + self.SHARED_RETRY_SECONDS
                return False
            if wait <= 0:
                return True
            await asyncio.sleep(wait)

    async def _take_turn(
        self, turns: AsyncExitStack, chat: int | str, off_group_budget: bool
    ) -> None:
        """This chat's turn and the overall one here, then the shared pacer's turn.

        Why both: the shared pacer's log allows its 29 at once whenever its 1.1 s window
        frees up, and a burst of 29 from one process, sent a little late, lands in the same
        second as the next (measured: 57 a second across three webhook processes without the
        in-memory pace, 35 with it). Paced evenly here, a process never bursts.
        """
        if not off_group_budget:
            await turns.enter_async_context(self._chat_limiter(chat))
        await turns.enter_async_context(self._overall)
        # The shared pacer counts a group deletion for the bot's 30 a second only.
        shared_chat = None if off_group_budget or not isinstance(chat, int) else chat
        await self._shared_turn(shared_chat)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        """Take the turns that apply, call, and on a 429 wait (this chat only) and retry."""
        raw_chat = data.get("chat_id")
        chat: int | str | None
        try:
            chat = int(raw_chat) if raw_chat is not None else None
        except (TypeError, ValueError):
            chat = str(raw_chat)  # "@channelusername": paced like a group
        off_group_budget = endpoint in NOT_POSTING and isinstance(chat, int) and chat < 0
        max_retries = self._max_retries
        for attempt in range(max_retries + 1):
            await self._wait_out_pauses(chat)
            async with AsyncExitStack() as turns:
                if chat is not None:  # only messages to a chat count against the limits
                    await self._take_turn(turns, chat, off_group_budget)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    if attempt == max_retries:
                        log.warning(
                            "%s: still rate limited after %d retries", endpoint, max_retries
                        )
                        raise
                    wait = exc.retry_after
                    seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                    log.info("%s: rate limited, retrying in %.1f s", endpoint, seconds + 0.1)
                    self._pause(chat, seconds + 0.1)
        raise AssertionError("unreachable")  # the loop returns or raises
