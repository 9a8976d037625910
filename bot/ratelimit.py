"""Rate limits on updates: per user (a flooding account is ignored) and for the process.

Per-user limits keep one account from taking the process's time from everyone else: updates
over the limit are dropped, with one notice. The global limit never drops anything; it only
paces the process when the total rate is above what it is sized for. Both are per process,
like python-telegram-bot's own concurrency; behind a load balancer each replica has its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up."""

    rate: float
    capacity: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class UpdateLimiter:
    """Per-user buckets (least recently used ones forgotten) and one global bucket."""

    MAX_TRACKED_USERS = 50_000

    def __init__(self, user_per_minute: int, global_per_second: int) -> None:
        self._user_rate = user_per_minute / 60.0
        self._user_capacity = float(user_per_minute)
        self._users: OrderedDict[int, TokenBucket] = OrderedDict()
        self._notified: dict[int, float] = {}
        self._global = TokenBucket(float(global_per_second), float(global_per_second) * 2)
        self._lock = asyncio.Lock()

    def allow_user(self, user_id: int) -> bool:
        now = time.monotonic()
        bucket = self._users.pop(user_id, None) or TokenBucket(self._user_rate, self._user_capacity)
        self._users[user_id] = bucket
        if len(self._users) > self.MAX_TRACKED_USERS:
            self._users.popitem(last=False)
        return bucket.take(now)

    def should_notify(self, user_id: int) -> bool:
        """One "slow down" notice per user per minute, not one per dropped update."""
        now = time.monotonic()
        if now - self._notified.get(user_id, -1e9) < 60.0:
            return False
        self._notified[user_id] = now
        if len(self._notified) > self.MAX_TRACKED_USERS:
            self._notified.clear()
        return True

    def pass_now(self) -> bool:
        """Take the process's turn for one more update if it is free now (nobody waiting and
        a token saved up): the usual case, with no lock and no await. False: `pace`."""
        return not self._lock.locked() and self._global.take(time.monotonic())

    async def pace(self) -> None:
        """Wait until the process may handle one more update."""
        async with self._lock:
            while True:
                delay = self._global.wait_time(time.monotonic())
                if delay <= 0:
                    self._global.take(time.monotonic())
                    return
                await asyncio.sleep(delay)
