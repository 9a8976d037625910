"""A card edit Telegram refuses is tried again; a card the teacher deleted is let go."""

from __future__ import annotations

import re

from telegram.ext import CallbackContext

from bot.cards import refresh_cards
from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness


def context_of(bot: BotHarness) -> CallbackContext:  # type: ignore[type-arg]
    return bot.app.context_types.context(bot.app)


def shown_code(bot: BotHarness) -> str:
    """The code the teacher's card shows in Telegram now."""
    [*_, card] = [m for m in bot.request.api.chat_messages(TEACHER_ID) if "photo" in m]
    match = re.search(r"/checkin ([A-Z0-9]{6})", card["caption"])
    assert match, card
    return match[1]


async def test_a_refused_rotation_edit_is_retried_at_the_next_refresh(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.send(TEACHER_ID, "/start_session 30 Rotating rotate=30")
    first = shown_code(bot)
    clock.advance(seconds=31)
    rotated = await bot.services.rotation.rotate_due_codes()
    assert rotated
    bot.request.api.fail_next(
        "editMessageMedia", error_code=429, description="Too Many Requests: retry after 1"
    )
    await refresh_cards(context_of(bot))
    assert shown_code(bot) == first  # refused: the card still shows the old code
    clock.advance(seconds=5)  # one refresh interval later
    await refresh_cards(context_of(bot))
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and shown_code(bot) == session.code != first


async def test_a_deleted_card_is_no_longer_refreshed(bot: BotHarness, clock: ManualClock) -> None:
    await bot.send(TEACHER_ID, "/start_session 30 Gone rotate=30")
    [*_, card] = [m for m in bot.request.api.chat_messages(TEACHER_ID) if "photo" in m]
    await bot.app.bot.delete_message(TEACHER_ID, card["message_id"])  # as the teacher would
    clock.advance(seconds=31)
    await bot.services.rotation.rotate_due_codes()
    await refresh_cards(context_of(bot))
    edits = len([c for c in bot.request.calls if c.method.startswith("edit")])
    for _ in range(3):
        clock.advance(seconds=31)
        await bot.services.rotation.rotate_due_codes()
        await refresh_cards(context_of(bot))
    assert len([c for c in bot.request.calls if c.method.startswith("edit")]) == edits
