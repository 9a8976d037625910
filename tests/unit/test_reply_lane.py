"""Replies are not broadcasts: the flood limiter sends a reply at once (about one a second
per chat), paces broadcasts at the bulk rate, and honours every 429 for its chat or for all."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.flood import SHARED_GAP_SECONDS, FloodLimiter
from bot.lanes import REPLY_WINDOW_SECONDS, answering, broadcast_job, lane_of
from bot.reply_pace import ReplyPace


class Recorder:
    """Telegram, answering each send; `refuse` makes chosen calls answer 429 once."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, float]] = []
        self.started = time.monotonic()
        self.refuse: dict[int, float] = {}  # the n-th call (from 1) -> retry_after
        self.calls = 0
        self.refused_at: list[float] = []

    async def call(self, chat_id: int) -> dict[str, Any]:
        self.calls += 1
        retry_after = self.refuse.pop(self.calls, None)
        if retry_after is not None:
            self.refused_at.append(time.monotonic() - self.started)
            raise RetryAfter(int(retry_after))
        self.sent.append((chat_id, time.monotonic() - self.started))
        return {"ok": True}

    def times(self, chat_id: int | None = None) -> list[float]:
        return [at for chat, at in self.sent if chat_id is None or chat == chat_id]


async def send(
    limiter: FloodLimiter, telegram: Recorder, chat: int, endpoint: str = "sendMessage"
) -> None:
    await limiter.process_request(
        telegram.call, (chat,), {}, endpoint, {"chat_id": chat, "text": "hi"}, None
    )


def most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


async def test_replies_go_at_once_while_broadcasts_keep_the_bulk_rate() -> None:
    limiter, telegram = FloodLimiter(), Recorder()
    students = range(1000, 1200)
    with answering(students):  # handling these students' messages
        await asyncio.gather(*(send(limiter, telegram, chat) for chat in students))
    assert len(telegram.sent) == 200
    assert max(telegram.times()) < 0.5  # 200 replies at once, not 7 s at 29 a second

    started = time.monotonic() - telegram.started
    # The same chats, from a job (no update being answered): the bulk rate.
    await asyncio.gather(*(send(limiter, telegram, chat) for chat in range(2000, 2030)))
    broadcasts = [at for chat, at in telegram.sent if chat >= 2000]
    assert max(broadcasts) - started >= 29 * SHARED_GAP_SECONDS - 0.01
    assert most_in_any_second(broadcasts) <= 27


async def test_a_message_to_another_chat_while_answering_is_a_broadcast() -> None:
    limiter, telegram = FloodLimiter(), Recorder()
    with answering({7}):  # student 7 wrote; the bot also tells 30 others (not replies)
        await asyncio.gather(*(send(limiter, telegram, chat) for chat in range(100, 130)))
    assert max(telegram.times()) >= 29 * SHARED_GAP_SECONDS - 0.01


async def test_replies_keep_about_one_a_second_in_their_chat() -> None:
    limiter, telegram = FloodLimiter(), Recorder()
    with answering({42}):
        await asyncio.gather(*(send(limiter, telegram, 42) for _ in range(3)))
    times = telegram.times(42)
    assert len(times) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_429_for_a_chat_not_written_to_lately_holds_everything() -> None:
    """Telegram's 429 for a chat the bot had not written to in seconds can only be the bot's
    overall limit: every message waits `retry_after`, replies and broadcasts alike, and
    replies are then paced."""
    limiter, telegram = FloodLimiter(), Recorder()
    telegram.refuse[11] = 1  # ten replies taken, then "retry after 1"
    students = range(1000, 1040)
    with answering(students):
        replies = [asyncio.create_task(send(limiter, telegram, chat)) for chat in students]
    await asyncio.sleep(0.05)
    broadcast = asyncio.create_task(send(limiter, telegram, 5000))
    await asyncio.gather(*replies, broadcast)
    [refused] = telegram.refused_at
    after = [at for chat, at in telegram.sent if at > refused and chat != 5000]
    assert len(telegram.sent) == 41 and len(after) == 30  # all delivered, each once
    assert min(after) >= refused + 1.0  # everything waited what Telegram asked
    assert min(at for chat, at in telegram.sent if chat == 5000) >= refused + 1.0
    # Then paced, at Telegram's bulk rate (it took only ten: not a guess to go slower on).
    assert most_in_any_second(after) <= 29
    assert max(after) >= refused + 1.0 + 29 / 29.1 - 0.05


async def test_a_429_soon_after_a_message_to_that_chat_holds_only_that_chat() -> None:
    """A private chat's own limit (about one a second): only that chat waits."""
    limiter, telegram = FloodLimiter(), Recorder()
    telegram.refuse[2] = 3
    with answering({42, *range(100, 120)}):
        first = asyncio.create_task(send(limiter, telegram, 42))
        await first
        second = asyncio.create_task(send(limiter, telegram, 42))  # refused: retry after 3
        await asyncio.sleep(1.3)  # its turn in the chat came after ~1 s, then the 429
        assert telegram.refused_at
        sent_before = time.monotonic() - telegram.started
        await asyncio.gather(*(send(limiter, telegram, chat) for chat in range(100, 120)))
        others = [at for chat, at in telegram.sent if chat >= 100]
        assert max(others) - sent_before < 0.5  # not held by chat 42's flood wait
        await second
    assert telegram.times(42)[-1] >= telegram.refused_at[0] + 3.0


async def test_an_edit_refused_holds_only_its_chat() -> None:
    """Editing one message too often is limited per chat, however long since the last one."""
    limiter, telegram = FloodLimiter(), Recorder()
    telegram.refuse[1] = 2
    edit = asyncio.create_task(send(limiter, telegram, -500, "editMessageMedia"))
    await asyncio.sleep(0.05)
    with answering(range(100, 110)):
        await asyncio.gather(*(send(limiter, telegram, chat) for chat in range(100, 110)))
    assert max(telegram.times()) < 0.5
    await edit
    assert telegram.times(-500)[0] >= 2.0


def test_the_reply_pace_creeps_back_up_and_ends_after_a_quiet_minute() -> None:
    now = [100.0]
    pace = ReplyPace(clock=lambda: now[0])
    assert pace.per_second is None  # unpaced until Telegram says otherwise
    for _ in range(30):
        pace.took(now[0])
    pace.throttled(pace.epoch, now[0], 1.0)
    stale = pace.epoch - 1
    pace.throttled(stale, now[0], 1.0)  # a 429 of a request sent before it: no news
    assert pace.per_second == ReplyPace.MIN_PER_SECOND  # during the wait: queued
    now[0] += 1.0  # the wait is over: what Telegram took in the second before the 429
    assert pace.per_second == pytest.approx(0.97 * 30)
    now[0] += 0.5  # Telegram took 5 in the half second since, then 429
    for _ in range(5):
        pace.took(now[0])
    pace.throttled(pace.epoch, now[0], 1.0)
    now[0] += 1.0
    assert pace.per_second == pytest.approx(0.9 * 0.97 * 30)  # half idle: a tenth slower
    now[0] += 2 * ReplyPace.CREEP_EVERY_SECONDS
    assert pace.per_second == pytest.approx(0.9 * 0.97 * 30 * ReplyPace.CREEP_FACTOR**2)
    now[0] += ReplyPace.UNPACED_AFTER_SECONDS
    assert pace.per_second is None


def test_the_pace_counts_what_telegram_took_before_the_refused_request_left() -> None:
    """On a busy machine a 429 is read late, with the answers to earlier requests: what
    Telegram took is counted by when each request left, once the wait is over."""
    now = [100.0]
    pace = ReplyPace(clock=lambda: now[0])
    refused_sent_at = now[0] + 0.5
    now[0] += 2.0  # the 429 is read 1.5 s after its request left; the others not yet
    pace.throttled(pace.epoch, refused_sent_at, 1.0)
    for i in range(40):  # the answers to the 40 sent just before it come in now
        pace.took(refused_sent_at - 0.01 * (i + 1))
    now[0] += 1.0
    assert pace.per_second == pytest.approx(0.97 * 40)


def test_replies_are_paced_no_slower_than_broadcasts_until_telegram_refuses_that() -> None:
    """A first 429 when Telegram seemed to take little (a rough count on a busy machine):
    the bulk rate; each further 429 at that pace lowers it by a tenth at most."""
    now = [100.0]
    pace = ReplyPace(clock=lambda: now[0])
    for _ in range(5):
        pace.took(now[0])
    pace.throttled(pace.epoch, now[0], 1.0)
    now[0] += 1.0
    assert pace.per_second == pytest.approx(0.97 * 30)
    paces = []
    for _ in range(3):
        now[0] += 2.0  # a clean second before each 429, in which Telegram took only 5
        for _ in range(5):
            pace.took(now[0])
        pace.throttled(pace.epoch, now[0], 1.0)
        now[0] += 1.0
        paces.append(pace.per_second)
    assert paces == pytest.approx([0.97 * 30 * 0.9**n for n in (1, 2, 3)])


def test_a_pace_set_far_too_high_drops_to_what_telegram_took_at_the_next_429() -> None:
    """A first pace from a rough count (80 a second where Telegram takes 30): the next 429,
    right after the flood wait, brings it to just under the 30 Telegram took then, not a
    tenth lower per flood wait (ten waits of a second each for a 1,000-reply burst)."""
    now = [100.0]
    pace = ReplyPace(clock=lambda: now[0])
    for _ in range(80):
        pace.took(now[0])
    pace.throttled(pace.epoch, now[0], 1.0)
    now[0] += 1.1
    assert pace.per_second == pytest.approx(0.97 * 80)
    now[0] += 0.5  # half a second after the wait, Telegram took 30, then 429
    for _ in range(30):
        pace.took(now[0])
    pace.throttled(pace.epoch, now[0], 1.0)
    now[0] += 1.1
    assert pace.per_second == pytest.approx(0.97 * 30)


async def test_the_lane_follows_the_task_that_answers() -> None:
    assert lane_of(7) == "broadcast"  # nothing is a reply by default
    with answering({7, -100}):
        assert lane_of(7) == "reply" and lane_of(-100) == "reply"
        assert lane_of(8) == "broadcast" and lane_of("@channel") == "broadcast"
        assert lane_of(None) == "broadcast"

        async def later() -> str:
            await asyncio.sleep(0)
            return lane_of(7)

        task = asyncio.create_task(later())  # a background reply inherits the mark
    assert await task == "reply"
    assert lane_of(7) == "broadcast"  # unset once the update is done


async def test_a_reply_is_a_reply_only_within_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    with answering({7}):
        later = time.monotonic() + REPLY_WINDOW_SECONDS + 1
        monkeypatch.setattr("bot.lanes.time.monotonic", lambda: later)
        assert lane_of(7) == "broadcast"


async def test_a_job_sends_broadcasts_even_when_scheduled_from_an_update() -> None:
    seen: list[str] = []

    async def job(context: object) -> None:
        seen.append(lane_of(7))

    wrapped = broadcast_job(job)
    with answering({7}):
        await wrapped(None)
        seen.append(lane_of(7))  # the update's own task is untouched
    assert seen == ["broadcast", "reply"]
    assert getattr(wrapped, "lane", None) == "broadcast"
