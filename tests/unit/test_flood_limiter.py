"""The flood limiter holds a 429's wait for the chat it was answered for, not for everyone."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.error import RetryAfter

from bot.flood import SHARED_GAP_SECONDS, FloodLimiter
from services.errors import StorageUnavailable
from services.ports import SendSlot


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


async def test_redis_is_asked_again_after_a_second_and_then_paces_alone() -> None:
    limiter = FloodLimiter()
    asked: list[float] = []
    started = time.monotonic()

    async def shared(chat_id: int | None) -> SendSlot:
        asked.append(time.monotonic() - started)
        if len(asked) == 1:
            raise StorageUnavailable("redis down")
        return SendSlot(reserved=True, wait_seconds=0.0)

    limiter.attach(shared)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.monotonic() - started)
        return True

    async def send(chat: int) -> None:
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)

    await asyncio.gather(*(send(chat) for chat in range(100, 110)))
    assert len(asked) == 1  # away: these ten went by the pace in memory, Redis asked once
    assert sent[-1] >= 9 / 29 * 0.9  # evenly paced: 29 a second
    await asyncio.sleep(max(0.0, FloodLimiter.SHARED_RETRY_SECONDS + 0.05 - sent[-1]))
    before = time.monotonic() - started
    await asyncio.gather(*(send(chat) for chat in range(200, 260)))
    assert len(asked) == 61  # back: one call a message
    assert asked[1] >= FloodLimiter.SHARED_RETRY_SECONDS
    # Redis's slots pace now (all due at once here, so one shared gap apart), not memory's
    # pace on top of them.
    assert sent[-1] - before < 60 * SHARED_GAP_SECONDS + 0.5


async def test_a_reserved_slot_is_slept_for_and_sent_without_asking_again() -> None:
    limiter = FloodLimiter()
    answers = [
        SendSlot(reserved=False, wait_seconds=0.3),  # the chat is not free yet
        SendSlot(reserved=True, wait_seconds=0.2, due_ms=1),
    ]
    asked: list[int | None] = []

    async def shared(chat_id: int | None) -> SendSlot:
        asked.append(chat_id)
        return answers[len(asked) - 1]

    limiter.attach(shared)
    started = time.monotonic()
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.monotonic() - started)
        return True

    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": -42}, None)
    assert asked == [-42, -42]
    assert sent[0] >= 0.5


def _most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


async def test_slots_that_came_due_together_are_sent_one_shared_gap_apart() -> None:
    """A late event loop wakes every message whose slot passed at once: Telegram counts
    arrivals, so they must still leave evenly spaced, in their order, not as one burst."""
    limiter = FloodLimiter()

    async def shared(chat_id: int | None) -> SendSlot:
        return SendSlot(reserved=True, wait_seconds=0.0, due_ms=1)  # all due, all late

    limiter.attach(shared)
    sent: list[tuple[int, float]] = []

    async def call(chat_id: int) -> bool:
        sent.append((chat_id, time.monotonic()))
        return True

    started = time.monotonic()
    chats = range(1, 41)
    await asyncio.gather(
        *(
            limiter.process_request(call, (chat,), {}, "sendMessage", {"chat_id": chat}, None)
            for chat in chats
        )
    )
    assert [chat for chat, _ in sent] == list(chats)
    assert _most_in_any_second([at for _, at in sent]) <= 27  # 29 in 1.1 s, never 30 in 1 s
    assert sent[-1][1] - started >= 39 * SHARED_GAP_SECONDS - 0.01


async def test_slots_on_time_are_not_slowed_by_the_spacing() -> None:
    """On time, the shared slots are a gap apart already: the rate stays the shared pace."""
    limiter = FloodLimiter()
    asked = 0
    started = time.monotonic()

    async def shared(chat_id: int | None) -> SendSlot:
        nonlocal asked
        slot = started + asked * SHARED_GAP_SECONDS
        asked += 1
        return SendSlot(reserved=True, wait_seconds=max(0.0, slot - time.monotonic()), due_ms=1)

    limiter.attach(shared)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.monotonic())
        return True

    for chat in range(1, 41):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
    assert len(sent) == 40
    # 40 slots a gap apart end 39 gaps after the first: no extra wait piles up on the way.
    assert sent[-1] - started < 39 * SHARED_GAP_SECONDS + 0.3


async def test_slots_reserved_before_redis_went_away_and_the_pace_in_memory_do_not_add_up() -> None:
    """Messages holding slots and messages paced in memory once Redis is away leave one
    spacing apart, together: not 29 a second each."""
    limiter = FloodLimiter()
    asked = 0

    async def shared(chat_id: int | None) -> SendSlot:
        nonlocal asked
        asked += 1
        if asked > 20:
            raise StorageUnavailable("redis down")
        return SendSlot(reserved=True, wait_seconds=0.2, due_ms=1)  # due later, together

    limiter.attach(shared)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(time.monotonic())
        return True

    await asyncio.gather(
        *(
            limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
            for chat in range(1, 61)
        )
    )
    assert len(sent) == 60
    assert _most_in_any_second(sent) <= 27
