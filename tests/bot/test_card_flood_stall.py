"""One group's Telegram flood queue and everyone else's live cards (the production
FloodLimiter in front of the strict fake Bot API)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Update
from telegram.ext import CallbackContext, TypeHandler

from bot.app import build_application
from bot.cards import CARD_EDITS_KEY, CARD_INTERVAL_KEY, refresh_cards
from bot.container import Services
from bot.jobs import refresh_cards_task
from bot.replying import PENDING_REPLIES_KEY
from services.clock import ManualClock
from tests.conftest import ADMIN_ID, TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness

GROUP = -100_909
BOT = "attn_test_bot"


class PacedHarness(BotHarness):
    """The harness with the production flood limiter (FloodLimiter) in front of the fake."""

    def __init__(self, settings, services: Services) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, services)

        async def factory() -> Services:
            return services

        self.app = build_application(
            settings, factory, request=self.request, rate_limiter=True, schedule=False
        )
        self.app.add_handler(TypeHandler(Update, self._meet), group=-1000)


@pytest.fixture
async def paced(services: Services) -> AsyncIterator[PacedHarness]:
    async with PacedHarness(make_settings(), services) as harness:
        yield harness
        for task in list(harness.app.bot_data.get(PENDING_REPLIES_KEY, set())):
            task.cancel()
        await asyncio.sleep(0)


def ctx(bot: BotHarness) -> CallbackContext:  # type: ignore[type-arg]
    return bot.app.context_types.context(bot.app)


async def test_one_groups_queued_messages_do_not_freeze_every_other_card(
    paced: PacedHarness, clock: ManualClock
) -> None:
    """Two classes at once in one bot process. Class A runs in a group; 15 of its students
    type "/checkin@bot CODE" in the group (answered privately; the bot deletes each
    code-bearing post in the group). Class B runs privately, its card ordered after A's.
    Class B's card must be edited within 2 s, not after group A's queue (it was ~47 s: the
    refresh edited cards one after the other, and the deletions took turns from the group's
    20-a-minute budget). Group A's own card is not held up by the deletions either:
    deleting puts no message into the group (bot/flood.py NOT_POSTING)."""
    await paced.send(TEACHER_ID, "/start")
    await paced.send(ADMIN_ID, "/start")
    await paced.send(
        ADMIN_ID, f"/start_session@{BOT} 30 GroupClass fixed", chat_id=GROUP, chat_type="group"
    )
    group_session = await paced.services.sessions.open_session(ADMIN_ID)
    assert group_session is not None
    await paced.send(TEACHER_ID, "/start_session 60 PrivateClass fixed")
    private_session = await paced.services.sessions.open_session(TEACHER_ID)
    assert private_session is not None

    await paced.send(4243, f"/checkin {private_session.code}")  # class B's count changes
    students = list(range(500, 515))
    for student in students:  # they all opened the bot before
        paced.request.never_started.discard(student)
    for student in students:  # as updates arrive: handled, replies left to the background
        update_id = paced.request.api.send_message(
            student, f"/checkin@{BOT} {group_session.code}", chat_id=GROUP, chat_type="group"
        )
        update = Update.de_json(paced.request.api.get_update(update_id), paced.app.bot)
        await paced.app.process_update(update)
    clock.advance(seconds=6)
    await asyncio.sleep(0.5)  # the replies (and deletions) are under way

    before = len(paced.request.calls)
    started = time.monotonic()
    task = asyncio.create_task(refresh_cards(ctx(paced)))
    edited_after: dict[int, float] = {}
    while time.monotonic() - started < 8 and len(edited_after) < 2:
        await asyncio.sleep(0.1)
        for c in paced.request.calls[before:]:
            chat = int(c.params.get("chat_id") or 0)
            if c.method.startswith("edit") and chat in (TEACHER_ID, GROUP) and c.status == 200:
                edited_after.setdefault(chat, time.monotonic() - started)
    task.cancel()
    deletions = [c for c in paced.request.calls if c.method == "deleteMessage"]
    assert len(deletions) == len(students)  # all tried at once: none queued for the group
    assert edited_after.get(TEACHER_ID, 99.0) < 2.0, edited_after  # class B's card
    assert edited_after.get(GROUP, 99.0) < 3.0, edited_after  # class A's own card


async def test_the_refresh_job_keeps_cards_fresh_while_one_groups_card_waits_its_turn(
    paced: PacedHarness, clock: ManualClock
) -> None:
    """Group A's queue is full (ten messages for that group: ~30 s at Telegram's 20 a
    minute), so its card's edit waits its turn there. The periodic refresh job (one run at
    a time) does not wait for it: each run returns within its interval and class B's card
    follows every check-in meanwhile."""
    paced.app.bot_data[CARD_INTERVAL_KEY] = 1.0
    await paced.send(TEACHER_ID, "/start")
    await paced.send(ADMIN_ID, "/start")
    await paced.send(
        ADMIN_ID, f"/start_session@{BOT} 30 GroupClass fixed", chat_id=GROUP, chat_type="group"
    )
    group_session = await paced.services.sessions.open_session(ADMIN_ID)
    assert group_session is not None
    await paced.send(TEACHER_ID, "/start_session 60 PrivateClass fixed")
    private_session = await paced.services.sessions.open_session(TEACHER_ID)
    assert private_session is not None
    await paced.send(4300, f"/checkin {group_session.code}")  # group A's count changes
    queued = [
        asyncio.create_task(paced.app.bot.send_message(GROUP, f"Line {i}")) for i in range(10)
    ]
    await asyncio.sleep(0.2)
    try:
        for n in (1, 2):
            await paced.send(4300 + n, f"/checkin {private_session.code}")  # class B's count
            clock.advance(seconds=6)
            started = time.monotonic()
            await refresh_cards_task(ctx(paced))
            assert time.monotonic() - started < 2.5
            [*_, card] = [m for m in paced.request.api.chat_messages(TEACHER_ID) if "photo" in m]
            assert f"{n} checked in" in card["caption"], card["caption"]
        group_edits = [c for c in paced.request.calls if c.method == "editMessageText"]
        assert group_edits == []  # still waiting for the group's turn, in the background
    finally:
        for task in [*queued, *paced.app.bot_data.get(CARD_EDITS_KEY, set())]:
            task.cancel()
        await asyncio.sleep(0)
