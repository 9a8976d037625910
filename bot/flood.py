"""Telegram's flood limits, kept on our side so a burst delays messages instead of losing them.

Built on python-telegram-bot's documented extension point (`BaseRateLimiter`), touching no
private attribute of the library. Two lanes (bot/lanes.py says which a message takes):

**Replies** (a message to the private chat of the update being answered) go at once:
Telegram's ~30 a second is for bulk notifications, not for answers to users' own messages.
Each chat keeps about one a second, paced in this process. When Telegram answers 429 for the
bot as a whole, everything waits its `retry_after`, and replies are then paced just under
what Telegram took (bot/reply_pace.py), creeping back up while it answers no 429, and
unpaced again after a quiet minute. A reply into a group (a session's card) takes its turn
from the shared pacer like a broadcast: a group's 20 a minute count everything the bot puts
there, from every process. At most `MAX_IN_FLIGHT` requests are open at once.

**Broadcasts** (summaries, nudges, reminders, digests, card edits, alerts: whatever the bot
sends on its own initiative) keep the bulk rate, shared by every process through Redis
(`SendPacer.reserve_send_slot`), since Telegram counts per bot, not per process:

* every broadcast: 29 in any 1.1 s overall, evenly spaced (Telegram: about 30 a second);
* each group: 19 a minute, spread over the minute (Telegram: 20);
* each private chat: one a second (Telegram: about one).

The shared pacer schedules: one call reserves a message's slot, possibly a little ahead, and
the message waits here for it and goes without asking again (or, when its chat is not free
yet, asks again when it frees). Its even spacing keeps every process together within the
limits. Telegram counts arrivals, though, not slots: when this process's event loop runs
late (a busy CPU), several messages whose slots have passed wake together, and sent at once
they would arrive as a bunch (31 in a second). So a message that wakes for its slot also
keeps one shared gap after this process's previous one (`_keep_spacing`): on time that
never waits (the slots are that far apart already), late it spreads the bunch back out at
the shared pace. Only while Redis is away (asked again once a second, not once a message)
does each process pace each chat in memory with the same numbers (aiolimiter), and all its
broadcasts by that same spacing.

A 429 ("retry after N") holds back what it concerns. Telegram does not say which limit it
was, so it is inferred: an edit, or a message to a chat this process sent to within that
chat's own window (2 s for a private chat, a minute for a group), may be that chat's limit,
and only that chat waits (a flood wait for editing one card too often must not hold every
student's "Checked in" in their own chats); a message to a chat it had not sent to lately
can only have hit the bot's overall limit, and everything waits, as it does when the
request named no chat. The request is then retried after the wait, up to `max_retries`
times.
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

from bot.lanes import lane_of
from bot.reply_pace import ReplyPace
from services.errors import StorageUnavailable
from services.ports import SendSlot

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

OVERALL_PER_SECOND = 29
GROUP_PER_MINUTE = 19
PRIVATE_CHAT_PERIOD_SECONDS = 1.05
# The shared pacer's even gap between the bot's messages (storage/redis/pacing.py: 29 in
# 1.1 s), kept here too between this process's own sends when they wake late together.
SHARED_GAP_SECONDS = 1.1 / OVERALL_PER_SECOND
# Telegram's 20 a minute in a group is about messages the bot puts there. A deletion puts
# nothing there (the bot deletes the code-bearing posts of students checking in from a
# group), so it takes no turn from the group's budget and never makes a card edit or a
# reply there wait behind it; it still counts against the bot's 30 a second. Edits do take
# turns: Telegram answers 429 to frequent edits in a group, and a card is edited at most
# once per refresh interval anyway.
NOT_POSTING = frozenset({"deleteMessage", "deleteMessages"})
# How long after a message to a chat a 429 for that chat may be the chat's own limit (a
# private chat's one a second, a group's twenty a minute); later, only the bot's overall one.
PRIVATE_CHAT_LIMIT_WINDOW_SECONDS = 2.0
GROUP_LIMIT_WINDOW_SECONDS = 60.0


class FloodLimiter(BaseRateLimiter[None]):
    """Replies at once, broadcasts at the bulk rate; flood waits held per chat or for all.

    It takes no per-call arguments (`rate_limit_args`): the lane of a message comes from the
    task sending it (bot/lanes.py), so no call site can forget it, the bot stays an
    `ExtBot[None]` with or without a limiter, and every context is typed alike."""

    MAX_CHATS = 4096
    # Requests in flight to Telegram at once. Replies are not paced, so a burst of 1,000
    # would otherwise open 1,000 requests together: python-telegram-bot's connection pool
    # (256) makes the rest wait at most a second for a connection and then fails them
    # (TimedOut), a reply lost. The others wait here, in order, with no time limit; at
    # Telegram's ~0.1 s a request that is still ~600 replies a second.
    MAX_IN_FLIGHT = 64
    # After the shared pacer failed, pace in memory this long before asking Redis again, so
    # an outage costs one failed round trip a second, not one per message.
    SHARED_RETRY_SECONDS = 1.0

    def __init__(self, max_retries: int = 8, private_chat_per_second: float = 1.0) -> None:
        # aiolimiter's buckets hold `max_rate` and drain at max_rate/period, so a window of
        # one period can see up to twice max_rate. A bucket of one that drains evenly keeps
        # every window of a second (a minute for groups) within Telegram's numbers (the
        # bot's overall pace is `_keep_spacing`, one gap between sends).
        self._max_retries = max_retries
        self._group_period = 60 / GROUP_PER_MINUTE
        self._private_period = PRIVATE_CHAT_PERIOD_SECONDS / private_chat_per_second
        self._chats: dict[int | str, AsyncLimiter] = {}
        # Monotonic time until which a chat (or, under the key None, everything) is in a
        # flood wait that Telegram announced with a 429.
        self._paused_until: dict[int | str | None, float] = {}
        self._shared_reserve: Callable[[int | None], Awaitable[SendSlot]] | None = None
        self._shared_away_until = 0.0  # monotonic; while in the future, pace in memory
        self._queues: dict[int, asyncio.Lock] = {}
        # FIFO (asyncio's locks are): messages leave in the order their slots came due.
        self._spacing = asyncio.Lock()
        self._last_sent = float("-inf")  # monotonic; when this process last sent on a slot
        self._replies = ReplyPace()
        self._in_flight = asyncio.Semaphore(self.MAX_IN_FLIGHT)
        self._sent_to: dict[int | str, float] = {}  # monotonic; a chat's last message taken

    async def initialize(self) -> None:
        """Nothing to open: the fallback limiters live in memory."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def attach(self, shared_reserve: Callable[[int | None], Awaitable[SendSlot]]) -> None:
        """Take slots from the deployment-wide pacer (shared by every bot process)."""
        self._shared_reserve = shared_reserve

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

    def _chat_queue(self, chat_id: int) -> asyncio.Lock:
        """This process's queue for one chat's shared slots (asyncio's locks are FIFO)."""
        if len(self._queues) > self.MAX_CHATS:
            for key, lock in list(self._queues.items()):
                if not lock.locked():
                    del self._queues[key]
        return self._queues.setdefault(chat_id, asyncio.Lock())

    async def _shared_turn(self, chat_id: int | None) -> bool:
        """Wait for a slot the shared pacer reserved; False when it is away.

        A process asks for one chat's slots one message at a time, in order: its messages
        to a chat keep their order, and a queue of them costs no round trip per message
        each time the chat frees."""
        if chat_id is None:
            wait = await self._reserve_shared(None)
        else:
            async with self._chat_queue(chat_id):
                wait = await self._reserve_shared(chat_id)
        if wait is None:
            return False
        # The slot is ours: this message goes at it without asking again (and the next one
        # to this chat, already asking, gets a later one).
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    async def _keep_spacing(self) -> None:
        """Leave at least one shared gap after this process's previous send.

        The shared slots are that far apart, so on time this does not wait; but when the
        event loop wakes late, every message whose slot passed meanwhile wakes at once, and
        Telegram (counting arrivals) would see them as one burst. They go one gap apart
        instead, in the order they woke. While Redis is away this is the overall pace."""
        async with self._spacing:
            wait = self._last_sent + SHARED_GAP_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_sent = time.monotonic()

    async def _reserve_shared(self, chat_id: int | None) -> float | None:
        """Seconds until the slot the shared pacer reserved, or None while it is away."""
        while True:
            reserve = self._shared_reserve
            if reserve is None or time.monotonic() < self._shared_away_until:
                return None
            try:
                slot = await reserve(chat_id)
            except StorageUnavailable:
                log.warning("shared flood pacing unavailable; pacing this process alone")
                self._shared_away_until = time.monotonic() + self.SHARED_RETRY_SECONDS
                return None
            if slot.reserved:
                return slot.wait_seconds
            await asyncio.sleep(slot.wait_seconds)  # until the chat frees

    async def _take_turn(
        self, turns: AsyncExitStack, chat: int | str, off_group_budget: bool
    ) -> None:
        """The shared pacer's slot (this chat's pace here only without it), then the spacing.

        Not both chat paces: the shared pacer spaces every grant evenly across all processes,
        so a second one here would only add delay (and a queue per process) while Redis is up.
        """
        # The shared pacer counts a group deletion for the bot's 30 a second only. A
        # "@channel" it cannot key keeps its group pace here, taken before the shared slot
        # so the message is not late for it.
        if isinstance(chat, str) and not off_group_budget:
            await turns.enter_async_context(self._chat_limiter(chat))
        shared_chat = None if off_group_budget or not isinstance(chat, int) else chat
        has_slot = await self._shared_turn(shared_chat)
        if not has_slot and isinstance(chat, int) and not off_group_budget:
            await turns.enter_async_context(self._chat_limiter(chat))
        await self._keep_spacing()

    async def _reply_turn(
        self, turns: AsyncExitStack, chat: int | str, off_group_budget: bool
    ) -> None:
        """A reply: this chat's own pace (in this process), then the replies' overall pace,
        which is none until Telegram answers 429 for the bot as a whole."""
        if not off_group_budget:
            await turns.enter_async_context(self._chat_limiter(chat))
        await self._replies.turn(lambda: self._wait_out_pauses(chat))

    def _taken(self, chat: int | str | None, sent_at: float) -> None:
        """Telegram took a message to `chat`, sent at `sent_at`."""
        self._replies.took(sent_at)
        if chat is None:
            return
        now = time.monotonic()
        self._sent_to[chat] = now
        if len(self._sent_to) > self.MAX_CHATS:
            for key, at in list(self._sent_to.items()):
                if at < now - GROUP_LIMIT_WINDOW_SECONDS:
                    del self._sent_to[key]

    def _chat_may_be_limited(self, chat: int | str, endpoint: str) -> bool:
        """Whether a 429 for `chat` may be its own limit rather than the bot's overall one:
        an edit (Telegram limits editing one message too often), or a message soon after
        this process's last one to that chat."""
        if endpoint.startswith("edit"):
            return True
        is_group = isinstance(chat, str) or chat < 0
        window = GROUP_LIMIT_WINDOW_SECONDS if is_group else PRIVATE_CHAT_LIMIT_WINDOW_SECONDS
        return time.monotonic() - self._sent_to.get(chat, float("-inf")) < window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        """Take the turns of the message's lane, call, and on a 429 wait (this chat, or
        everything) and retry."""
        raw_chat = data.get("chat_id")
        chat: int | str | None
        try:
            chat = int(raw_chat) if raw_chat is not None else None
        except (TypeError, ValueError):
            chat = str(raw_chat)  # "@channelusername": paced like a group
        off_group_budget = endpoint in NOT_POSTING and isinstance(chat, int) and chat < 0
        # A group's 20 a minute count every message the bot puts there, from every process:
        # a reply into a group takes its turn from the shared pacer, like a broadcast.
        replying = lane_of(chat) == "reply" and isinstance(chat, int) and chat > 0
        max_retries = self._max_retries
        attempt = 0
        while True:
            await self._wait_out_pauses(chat)
            async with AsyncExitStack() as turns:
                if chat is not None and replying:
                    await self._reply_turn(turns, chat, off_group_budget)
                elif chat is not None:  # only messages to a chat count against the limits
                    await self._take_turn(turns, chat, off_group_budget)
                epoch = self._replies.epoch
                async with self._in_flight:
                    # Telegram throttled the bot while this waited for a request slot: its
                    # turn was taken at the old pace (or none), so it takes one again.
                    if self._paused(chat) or (replying and self._replies.epoch != epoch):
                        continue
                    sent_at = time.monotonic()
                    try:
                        result = await callback(*args, **kwargs)
                    except RetryAfter as exc:
                        if attempt == max_retries:
                            log.warning(
                                "%s: still rate limited after %d retries", endpoint, max_retries
                            )
                            raise
                        attempt += 1
                        self._throttled(exc, chat, endpoint, epoch, sent_at)
                        continue
                self._taken(chat, sent_at)
                return result

    def _paused(self, chat: int | str | None) -> bool:
        """Whether this chat (or everything) is in a flood wait now."""
        until = max(self._paused_until.get(None, 0.0), self._paused_until.get(chat, 0.0))
        return until > time.monotonic()

    def _throttled(
        self, exc: RetryAfter, chat: int | str | None, endpoint: str, epoch: int, sent_at: float
    ) -> None:
        """Telegram answered 429: hold back this chat, or everything (and pace replies)."""
        wait = exc.retry_after
        seconds = (wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) + 0.1
        whose = chat if chat is not None and self._chat_may_be_limited(chat, endpoint) else None
        log.info(
            "%s: rate limited (%s), retrying in %.1f s",
            endpoint,
            "this chat" if whose is not None else "everything",
            seconds,
        )
        self._pause(whose, seconds)
        if whose is None:
            self._replies.throttled(epoch, sent_at, seconds)
