"""Flood limits held across processes: two bot processes' limiters share one pace."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.bootstrap import build_services
from bot.container import Services
from bot.flood import FloodLimiter
from tests.conftest import make_settings


async def test_two_processes_together_stay_within_telegrams_limits(
    services: Services, redis_url: str, clean_database: str
) -> None:
    other: Services = await build_services(make_settings(), redis_url, clean_database)
    sent: list[tuple[float, int]] = []

    async def send(chat_id: int) -> dict[str, Any]:
        sent.append((time.monotonic(), chat_id))
        return {"ok": True}

    limiters = []
    for process in (services, other):
        limiter = FloodLimiter()
        limiter.attach(process.pacer.reserve)
        await limiter.initialize()
        limiters.append(limiter)
    try:
        chats = [1000 + i % 40 for i in range(90)] + [-5000] * 5  # 40 private chats, 1 group

        async def one(limiter: FloodLimiter, chat: int) -> None:
            await limiter.process_request(send, (chat,), {}, "sendMessage", {"chat_id": chat}, None)

        started = time.monotonic()
        await asyncio.gather(
            *(one(limiters[i % 2], chat) for i, chat in enumerate(chats)), return_exceptions=False
        )
        elapsed = time.monotonic() - started
    finally:
        for limiter in limiters:
            await limiter.shutdown()
        await other.close()

    times = sorted(t for t, _ in sent)
    most_in_a_second = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    per_chat: dict[int, list[float]] = {}
    for t, chat in sent:
        per_chat.setdefault(chat, []).append(t)
    closest = min(
        b - a
        for chat, ts in per_chat.items()
        if chat > 0
        for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)
    )
    group = sorted(per_chat[-5000])
    print(
        f"\nflood: {len(sent)} messages from 2 processes in {elapsed:.1f} s; max in any second "
        f"{most_in_a_second}; closest two to one private chat {closest:.2f} s; group: "
        f"{sum(1 for t in group if t < group[0] + 60)} in its first minute"
    )
    assert len(sent) == 95
    assert most_in_a_second <= 30
    assert closest >= 1.0
    assert sum(1 for t in group if t < group[0] + 60) <= 20
