"""The flood limiter holds a 429's wait for the chat it was answered for, not for everyone."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.error import RetryAfter

from bot.flood import FloodLimiter
from services.errors import StorageUnavailable


async def test_a_flood_wait_in_one_chat_does_not_hold_the_others() -> None:
    limiter = FloodLimiter()
    done: dict[int, float] = {}
    refused: set[int] = set()
    started = time.monotonic()

    async def call(chat_id: int) -> dict[str, Any]:
        if chat_id == 1 and chat_id not in refused:
            refused.add(chat_id)
            raise RetryAfter(2)
        done[chat_id] = time.monotonic() - started
        return {"ok": True}

    async def send(chat_id: int) -> None:
        await limiter.process_request(
            call, (chat_id,), {}, "editMessageMedia", {"chat_id": chat_id}, None
        )

    first = asyncio.create_task(send(1))
    await asyncio.sleep(0.05)  # the card's edit is refused first
    await asyncio.gather(*(send(chat) for chat in range(100, 120)))
    await first
    assert max(done[chat] for chat in range(100, 120)) < 1.5  # 29 a second, no pause
    assert done[1] >= 2.0  # the refused chat waited what Telegram asked, then went through


async def test_a_flood_wait_without_a_chat_holds_everything() -> None:
    limiter = FloodLimiter()
    done: dict[str, float] = {}
    refused: list[str] = []
    started = time.monotonic()

    async def call(name: str) -> bool:
        if name == "answer" and not refused:
            refused.append(name)
            raise RetryAfter(1)
        done[name] = time.monotonic() - started
        return True

    answer = asyncio.create_task(
        limiter.process_request(call, ("answer",), {}, "answerCallbackQuery", {}, None)
    )
    await asyncio.sleep(0.05)
    await limiter.process_request(call, ("send",), {}, "sendMessage", {"chat_id": 5}, None)
    await answer
    assert done["send"] >= 1.0 and done["answer"] >= 1.0


async def test_a_request_refused_every_time_gives_up_after_its_retries() -> None:
    limiter = FloodLimiter(max_retries=2)
    tries: list[int] = []

    async def call() -> bool:
        tries.append(1)
        raise RetryAfter(0)

    try:
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
    except RetryAfter:
        pass
    else:
        raise AssertionError("the last RetryAfter must reach the caller")
    assert len(tries) == 3


async def test_while_the_shared_pacer_is_away_memory_paces_and_redis_is_asked_once_a_second() -> (
    None
):
    limiter = FloodLimiter()
    asked: list[int | None] = []

    async def shared(chat_id: int | None) -> float:
        asked.append(chat_id)
        raise StorageUnavailable("redis down")

    limiter.attach(shared)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.monotonic())
        return True

    started = time.monotonic()
    await asyncio.gather(
        *(
            limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
            for chat in range(100, 160)
        )
    )
    assert len(sent) == 60
    assert time.monotonic() - started >= 1.5  # 29 a second on its own: about 2 s for 60
    assert len(asked) <= 4  # once, then again after each second, not once a message
