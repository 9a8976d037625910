"""The overall pace of replies, learnt from Telegram's 429s (see `ReplyPace`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# Telegram's documented rate for bulk notifications (its FAQ: about 30 messages a second).
TELEGRAM_BULK_PER_SECOND = 30


class ReplyPace:
    """The overall pace of replies: none until Telegram answers 429 for the bot as a whole.

    Then just under what Telegram took in the second before the refused request left (what
    it demonstrably accepts), but not below its documented bulk rate, counted once the
    flood wait is over (by then the answers to the requests sent before it have come back,
    even on a busy machine). Each further 429 lowers the pace by 3 % to 10 % (by what
    Telegram took; by a tenth when a flood wait had ended less than a second before, as
    that second was partly idle, or to just under what Telegram took then if that is less).
    It creeps up by `CREEP_FACTOR` every `CREEP_EVERY_SECONDS`
    without a 429 (so a lifted limit is found again), and replies are unpaced after
    `UNPACED_AFTER_SECONDS` without one. Every 429 of one episode says the same thing, so
    only the first of them (a request sent after the pace last changed) counts.

    While paced, each reply leaves one gap after the one before it actually left: replies
    that wake together after a late event loop are spread out again, not sent as a bunch
    that Telegram (counting arrivals) would refuse."""

    SAFETY = 0.97
    SLOWER = 0.9
    MIN_PER_SECOND = 1.0
    CREEP_EVERY_SECONDS = 10.0
    CREEP_FACTOR = 1.02
    UNPACED_AFTER_SECONDS = 60.0
    # How long the times of messages taken are kept: a 429 may be answered (read) late.
    KEEP_TOOK_SECONDS = 10.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._base: float | None = None  # messages a second set by the last 429; None: unpaced
        self._since = 0.0  # when the last 429 set the pace
        self._resumed_at = float("-inf")  # when the last flood wait for everything ends
        # A 429 whose pace is counted once its wait is over: (when its request was sent,
        # whether part of the second before it was a flood wait).
        self._pending: tuple[float, bool] | None = None
        self._last = float("-inf")  # when the last paced reply left
        self._spacing = asyncio.Lock()  # FIFO: paced replies leave in their order
        self._took: deque[float] = deque()  # when each message Telegram took was sent
        self.epoch = 0  # moves on with every 429 that counts

    @property
    def per_second(self) -> float | None:
        """The pace now (None: unpaced)."""
        now = self._clock()
        if self._pending is not None:
            if now < self._resumed_at:  # counted after the wait; paced meanwhile
                return self._base or self.MIN_PER_SECOND
            self._settle(*self._pending)
        if self._base is None:
            return None
        quiet = now - self._since
        if quiet >= self.UNPACED_AFTER_SECONDS:
            self._base = None
            return None
        return self._base * self.CREEP_FACTOR ** int(quiet // self.CREEP_EVERY_SECONDS)

    def took(self, sent_at: float) -> None:
        """Telegram took a message (of either lane) sent at `sent_at` (monotonic): it counts
        towards what Telegram accepts. The time it was sent, not answered: answers read
        together by a busy event loop would look like more than Telegram took in a second."""
        self._took.append(sent_at)
        now = self._clock()
        while self._took and self._took[0] < now - self.KEEP_TOOK_SECONDS:
            self._took.popleft()

    def throttled(self, epoch: int, sent_at: float, wait_seconds: float) -> None:
        """Telegram answered 429 for the bot as a whole, to a request sent at `sent_at` in
        `epoch`; everything waits `wait_seconds`."""
        if epoch != self.epoch:
            return  # the pace changed since that request left: this 429 is not news
        now = self._clock()
        if self._pending is not None:
            self._settle(*self._pending)
        self._pending = (sent_at, self._resumed_at > sent_at - 1.0)
        self._since = now
        self._resumed_at = now + wait_seconds
        self.epoch += 1

    def _settle(self, sent_at: float, after_a_wait: bool) -> None:
        """Set the pace from what Telegram took in the second before `sent_at`."""
        self._pending = None
        took = sum(1 for at in self._took if sent_at - 1.0 <= at <= sent_at)
        current = self._base
        if current is None:
            # At least Telegram's documented bulk rate: on a busy machine the count by
            # when requests left is rough, and a reply must not go slower than a broadcast
            # on a guess. Lower only when Telegram refuses that too (below).
            pace = self.SAFETY * max(took, TELEGRAM_BULK_PER_SECOND)
        elif after_a_wait:
            # Part of that second was a flood wait, so Telegram would have taken more than
            # the count: a tenth slower, or straight down to just under what it took when
            # that is lower still (a first pace set from a rough count can be far too high:
            # stepping down a tenth at a time cost a flood wait per step). Not below the
            # bulk rate on such a count; only a further 429 takes it lower.
            counted = self.SAFETY * max(took, TELEGRAM_BULK_PER_SECOND)
            pace = min(self.SLOWER * current, counted)
        else:  # a tenth slower at most, a little slower at least
            pace = current * max(self.SLOWER, min(self.SAFETY, self.SAFETY * took / current))
        self._base = max(self.MIN_PER_SECOND, pace)
        log.info(
            "Telegram throttles the bot (it took %d in the second before): replies paced at "
            "%.1f a second",
            took,
            self._base,
        )

    async def turn(self, wait_out_pauses: Callable[[], Awaitable[None]]) -> None:
        """Wait for the next reply's turn (none while unpaced). A flood wait that began
        while this reply queued is waited out in the queue: the reply after it leaves one
        gap after the wait, not into it."""
        if self.per_second is None:
            return
        async with self._spacing:
            while True:
                await wait_out_pauses()
                per_second = self.per_second
                if per_second is None:
                    return
                wait = self._last + 1.0 / per_second - self._clock()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            self._last = self._clock()
