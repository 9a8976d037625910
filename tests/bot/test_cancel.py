"""/cancel: a pending prompt ends, so the next text is not taken as its answer."""

from __future__ import annotations

import re

from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness

STUDENT = 4242
CANCEL_HINT = "Send /cancel to stop."


async def open_session_code(bot: BotHarness) -> str:
    [card] = await bot.send(TEACHER_ID, "/start_session 30 Lecture")
    match = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert match, card
    return match[1]


async def test_cancel_after_checkin_alone_the_next_text_is_not_a_code(bot: BotHarness) -> None:
    code = await open_session_code(bot)
    [ask] = await bot.send(STUDENT, "/checkin")
    assert "Send me the code" in ask and CANCEL_HINT in ask
    [cancelled] = await bot.send(STUDENT, "/cancel")
    assert "Cancelled" in cancelled
    assert bot.request.calls[-1].params["reply_markup"] == {"remove_keyboard": True}
    [hint] = await bot.send(STUDENT, "123456")
    assert "To check in, send /checkin" in hint  # the plain-text hint: no check-in attempted
    [again] = await bot.send(STUDENT, code)
    assert "Checked in" not in again and "not valid" not in again
    # Without /cancel, the same text would have been taken as the code.
    await bot.send(STUDENT, "/checkin")
    [taken] = await bot.send(STUDENT, "123456")
    assert "check-in code" in taken


async def test_cancel_with_nothing_pending(bot: BotHarness) -> None:
    assert await bot.send(STUDENT, "/cancel") == ["Nothing to cancel."]
    await bot.send(STUDENT, "/checkin")
    await bot.send(STUDENT, "/cancel")
    assert await bot.send(STUDENT, "/cancel") == ["Nothing to cancel."]


async def test_every_prompt_says_how_to_cancel(bot: BotHarness) -> None:
    """The name prompt (after joining), and the location prompts, end with the /cancel line."""
    [created] = await bot.send(TEACHER_ID, "/new_course Physics")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    replies = await bot.send(STUDENT, f"/join {join[1]}")
    assert "full name" in replies[-1] and CANCEL_HINT in replies[-1]
    [name_cancelled] = await bot.send(STUDENT, "/cancel")
    assert "Cancelled" in name_cancelled
    assert "To check in" in (await bot.send(STUDENT, "Ada Lovelace"))[0]  # not taken as a name

    card_and_ask = await bot.send(TEACHER_ID, "/start_session Physics 30 Lab geo")
    assert "share yours now" in card_and_ask[-1] and CANCEL_HINT in card_and_ask[-1]
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card_and_ask[0])
    assert code
    [needs_location] = await bot.send(STUDENT, f"/checkin {code[1]}")
    assert "Share my location" in needs_location and CANCEL_HINT in needs_location
    await bot.send(STUDENT, "/cancel")
    [unexpected] = await bot.send_location(STUDENT, 52.52, 13.40)
    assert "wasn't expecting a location" in unexpected
