"""The classroom location can be shared again at any time, and a student's valid code is
bound to the session while the bot waits for their location (rotation meanwhile is fine)."""

from __future__ import annotations

import re

from redis.asyncio import Redis
from telegram.ext import CallbackContext

from bot.cards import refresh_cards
from services.clock import ManualClock
from tests.bot.test_location import HALL, NEARBY
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall

STUDENT, LATE_STUDENT, SLOW_STUDENT = 2, 3, 4


def last_card(bot: BotHarness) -> ApiCall:
    cards = [
        c
        for c in bot.request.calls
        if c.method in ("sendPhoto", "editMessageCaption", "editMessageMedia")
        and c.params.get("chat_id") == TEACHER_ID
    ]
    return cards[-1]


def caption(call: ApiCall) -> str:
    media = call.params.get("media")
    if isinstance(media, dict):
        return str(media.get("caption", ""))
    return call.text


def button_data(call: ApiCall) -> dict[str, str]:
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def refresh(bot: BotHarness, clock: ManualClock) -> None:
    clock.advance(seconds=6)
    context: CallbackContext = bot.app.context_types.context(bot.app)  # type: ignore[type-arg]
    await refresh_cards(context)


async def test_reshare_at_any_time_and_codes_bound_across_rotation(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis
) -> None:
    [card, ask] = await bot.send(TEACHER_ID, "/start_session 60 Field trip geo rotate=30")
    assert "share yours now" in ask
    assert "classroom location missing" in card
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code
    posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
    location_button = button_data(posted)["⚠ Share classroom location"]

    # Unrelated text does not use up the location prompt.
    [hint] = await bot.send(TEACHER_ID, "where do I see the list?")
    assert "/checkin" in hint
    pending = await clean_redis.get(f"attn:u:{{{TEACHER_ID}}}:pending")
    assert pending is not None and pending.startswith(b"geo_anchor ")

    # The prompt expires (5 minutes) before the teacher answers it.
    clock.advance(minutes=6)
    await bot.services.rotation.rotate_due_codes()
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    code_now = session.code

    # A student's code is valid; the bot asks for their location: the location is missing.
    [asked] = await bot.send(STUDENT, f"/checkin {code_now}")
    assert "Share my location" in asked and "hasn't shared the classroom location" in asked
    [not_ready] = await bot.send_location(STUDENT, *NEARBY)
    assert "hasn't shared the classroom location" in not_ready and "kept" in not_ready
    await refresh(bot, clock)
    assert "classroom location missing" in caption(last_card(bot))

    # The teacher taps the card's button: a location request arrives in the private chat.
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, location_button)
    [request] = [c for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert request.params["reply_markup"]["keyboard"][0][0]["request_location"] is True

    # The code rotates twice meanwhile: the student's first code is dead for everyone else...
    clock.advance(seconds=31)
    await bot.services.rotation.rotate_due_codes()
    clock.advance(seconds=31)
    await bot.services.rotation.rotate_due_codes()
    [expired] = await bot.send(SLOW_STUDENT, f"/checkin {code_now}")
    assert "expired" in expired

    [saved] = await bot.send_location(TEACHER_ID, *HALL)
    assert "Classroom location saved" in saved
    await refresh(bot, clock)
    assert "classroom location set" in caption(last_card(bot))

    # ...but it was bound to the session when the bot asked for the location.
    [done] = await bot.send_location(STUDENT, *NEARBY)
    assert "Checked in to <b>Field trip</b>" in done

    # Bounded: a code bound more than 5 minutes ago is not honoured.
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    [asked] = await bot.send(LATE_STUDENT, f"/checkin {session.code}")
    assert "Share my location" in asked
    clock.advance(minutes=6)
    await bot.services.rotation.rotate_due_codes()
    [refused] = await bot.send_location(LATE_STUDENT, *NEARBY)
    assert "Checked in" not in refused
    checked = await bot.services.live.checkins.checked_in(session.id)
    assert set(checked) == {STUDENT}

    # No prompt pending at all: the teacher's location still moves the classroom.
    [moved] = await bot.send_location(TEACHER_ID, *NEARBY)
    assert "Classroom location saved" in moved
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.anchor == (round(NEARBY[0], 5), round(NEARBY[1], 5))


async def test_student_told_to_share_current_location_can_do_so(
    bot: BotHarness, clock: ManualClock
) -> None:
    """A forwarded (or old) location is refused with "share your current location": the
    bound code and the share button stay, so doing exactly that checks the student in (it
    used to answer "I wasn't expecting a location")."""
    [card, _ask] = await bot.send(TEACHER_ID, "/start_session 30 Field trip geo")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code
    [saved] = await bot.send_location(TEACHER_ID, *HALL)
    assert "saved" in saved
    [ask] = await bot.send(STUDENT, f"/checkin {code[1]}")
    assert "Share my location" in ask
    [refused] = await bot.send_location(STUDENT, *NEARBY, forwarded=True)
    assert "share your current location" in refused
    markup = bot.request.calls[-1].params["reply_markup"]
    assert markup["keyboard"][0][0]["request_location"] is True  # the button is still there
    [answer] = await bot.send_location(STUDENT, *NEARBY)
    assert "Checked in" in answer, answer
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert set(await bot.services.live.checkins.checked_in(session.id)) == {STUDENT}
