"""The catalog check of the bot tests catches a sentence the bot did not take from the catalog."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.text import t
from tests.support.bot_harness import BotHarness, RecordingRequest

STUDENT = 5001


async def test_a_literal_reply_or_button_is_reported(bot: BotHarness) -> None:
    await bot.send(STUDENT, "/start")
    found = RecordingRequest.catalog_violations
    assert found == []  # what the bot itself sent is catalog text
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Click me", callback_data="x")]])
    await bot.app.bot.send_message(STUDENT, "Hello there, written inline", reply_markup=keyboard)
    await bot.app.bot.send_message(STUDENT, t("session.nobody_present"))
    assert found is not None
    assert len(found) == 2
    assert "Hello there, written inline" in found[0] and "Click me" in found[1]
    found.clear()  # the literals were this test's own
