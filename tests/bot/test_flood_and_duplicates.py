"""A flooding account is cut off without slowing others; a redelivered update runs once."""

from __future__ import annotations

import time

from telegram import Update

from bot.container import Services
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import message_update


async def test_flooding_user_is_ignored_others_are_not(services: Services) -> None:
    settings = make_settings(user_rate_per_minute=10)
    async with BotHarness(settings, services) as bot:
        replies = [await bot.send(666, "/help") for _ in range(30)]
        answered = [r for r in replies if r and "Commands" in r[0]]
        notices = [r for r in replies if r and "very fast" in r[0]]
        assert len(answered) == 10 and len(notices) == 1
        assert sum(1 for r in replies if not r) == 19  # the rest dropped silently
        started = time.monotonic()
        for user in range(1, 21):
            [reply] = await bot.send(user, "/help")
            assert "Commands" in reply
        assert time.monotonic() - started < 5


async def test_a_redelivered_update_is_handled_once(bot: BotHarness, clock: ManualClock) -> None:
    await bot.send(TEACHER_ID, "/start_session 10 Dup")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    raw = message_update(4711, f"/checkin {session.code}")
    before = len(bot.request.calls)
    for _ in range(3):
        await bot.app.process_update(Update.de_json(raw, bot.app.bot))
    replies = [c.text for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert len(replies) == 1 and "Checked in" in replies[0]
