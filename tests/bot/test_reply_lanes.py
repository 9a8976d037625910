"""Replies are not broadcasts, through the real Application and the production flood
limiter: students' replies leave at once while a job's card edits keep the bulk rate, and a
429 with `retry_after` holds back its chat, or everything when it was the bot's limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bot.cards import CARD_EDITS_KEY
from bot.container import Services
from bot.flood import SHARED_GAP_SECONDS
from bot.jobs import refresh_cards_task
from bot.lanes import broadcast_job
from bot.replying import wait_for_replies
from services.clock import ManualClock
from tests.conftest import ADMIN_ID, make_settings
from tests.fakes.botapi import FloodLimits
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall

TEACHERS = range(880_001, 880_031)
STUDENTS = range(881_001, 881_031)
EDITS = ("editMessageCaption", "editMessageMedia", "editMessageText")


def taken(bot: BotHarness, since: int, methods: tuple[str, ...]) -> list[ApiCall]:
    return [c for c in bot.request.calls[since:] if c.method in methods and c.status == 200]


def span(calls: list[ApiCall]) -> float:
    return max(c.at for c in calls) - min(c.at for c in calls)


def most_in_any_second(calls: list[ApiCall]) -> int:
    times = sorted(c.at for c in calls)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


async def open_sessions(bot: BotHarness) -> list[str]:
    """One open session per teacher (each invited by the admin); their codes."""
    for teacher in TEACHERS:
        token = await bot.services.roles.invite_teacher(ADMIN_ID)
        assert await bot.services.roles.accept_invite(teacher, token)
    await bot.send_many([(t, "/start") for t in TEACHERS])
    await asyncio.sleep(1.1)  # each teacher's chat keeps about one message a second
    await bot.send_many([(t, "/start_session 60 Lecture") for t in TEACHERS])
    codes = []
    for teacher in TEACHERS:
        session = await bot.services.sessions.open_session(teacher)
        assert session is not None
        codes.append(session.code)
    return codes


async def test_replies_go_at_once_while_a_jobs_card_edits_keep_the_bulk_rate(
    services: Services, clock: ManualClock
) -> None:
    async with BotHarness(make_settings(), services, rate_limiter=True) as bot:
        codes = await open_sessions(bot)
        before = len(bot.request.calls)
        await bot.send_many(
            [(s, f"/checkin {code}") for s, code in zip(STUDENTS, codes, strict=True)]
        )
        replies = taken(bot, before, ("sendMessage",))
        assert sorted(int(c.params["chat_id"]) for c in replies) == list(STUDENTS)
        assert all("Checked in" in c.text for c in replies)
        # 30 replies in less than the 1.1 s that 29 a second would take at the least.
        assert span(replies) < 0.9

        clock.advance(seconds=6)  # every card may be edited again; each count changed
        before = len(bot.request.calls)
        context = bot.app.context_types.context(bot.app)
        await broadcast_job(refresh_cards_task)(context)  # as schedule_jobs registers it
        under_way = bot.app.bot_data.get(CARD_EDITS_KEY, set())
        await asyncio.gather(*list(under_way), return_exceptions=True)
        edits = taken(bot, before, EDITS)
        assert len({int(c.params["chat_id"]) for c in edits}) == len(TEACHERS)
        # The job's 30 edits keep the bulk rate: 29 in 1.1 s, evenly spaced.
        assert span(edits) >= (len(edits) - 1) * SHARED_GAP_SECONDS * 0.95
        assert most_in_any_second(edits) <= 29


async def test_telegrams_overall_limit_holds_every_reply_for_its_retry_after(
    services: Services,
) -> None:
    """Telegram takes 10 messages a second here: the rest are answered 429 "retry after 1"
    (for chats the bot had not written to: the bot's own limit). Everything waits that
    second, then replies go at just under what Telegram took; each is delivered once."""
    async with BotHarness(make_settings(), services, rate_limiter=True) as bot:
        codes = await open_sessions(bot)
        bot.request.api.set_flood_limits(
            FloodLimits(global_per_second=10, per_chat_per_second=None, group_per_minute=None)
        )
        before = len(bot.request.calls)
        started = time.monotonic()
        await bot.send_many(
            [(s, f"/checkin {code}") for s, code in zip(STUDENTS, codes, strict=True)]
        )
        calls = bot.request.calls[before:]
        refused = [c for c in calls if c.status == 429]
        replies = taken(bot, before, ("sendMessage",))
        assert Counter(int(c.params["chat_id"]) for c in replies) == Counter(STUDENTS)
        assert refused and all("retry after 1" in (c.error or "") for c in refused)
        first_refusal = min(c.at for c in refused)
        after = [c for c in replies if c.at > first_refusal]
        assert min(c.at for c in after) >= first_refusal + 1.0  # everything waited
        assert most_in_any_second(replies) <= 10
        # Refused once, then paced: not one 429 per reply per second.
        assert len(refused) <= 2 * len(STUDENTS)
        assert time.monotonic() - started < 8


async def test_a_chats_own_429_holds_only_that_chat(services: Services) -> None:
    """A student writes twice in a row; Telegram refuses the second reply in that chat with
    "retry after 3". That chat waits 3 s; the others' replies go at once meanwhile."""
    async with BotHarness(make_settings(), services, rate_limiter=True) as bot:
        codes = await open_sessions(bot)
        student = STUDENTS[0]
        await bot.send(student, f"/checkin {codes[0]}")
        bot.request.api.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 3",
            parameters={"retry_after": 3},
            chat_id=student,
        )
        before = len(bot.request.calls)
        second = asyncio.create_task(bot.send(student, "/help"))
        for _ in range(100):  # its turn in the chat comes a second after the first: refused
            if any(c.status == 429 for c in bot.request.calls[before:]):
                break
            await asyncio.sleep(0.05)
        [refusal] = [c for c in bot.request.calls[before:] if c.status == 429]
        await bot.send_many(
            [(s, f"/checkin {code}") for s, code in zip(STUDENTS[1:], codes[1:], strict=True)]
        )
        replies = taken(bot, before, ("sendMessage",))
        others = [c for c in replies if c.params["chat_id"] != student]
        assert len(others) == len(STUDENTS) - 1
        # Every other student's reply left before that chat's 3 s flood wait was over.
        assert max(c.at for c in others) < refusal.at + 3.0
        await second
        await wait_for_replies(bot.app.bot_data)
        [answer] = [
            c for c in taken(bot, before, ("sendMessage",)) if c.params["chat_id"] == student
        ]
        assert answer.at >= refusal.at + 3.0
