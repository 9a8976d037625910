"""/start_session with several courses: the options typed survive the course buttons, and a
double tap on a button opens one session (real Redis)."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from bot.keyboards import MAX_CALLBACK_BYTES
from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.live_sessions import open_sessions_of

LONG_TITLE = "Organic chemistry lab — week 3, titration and buffers (bring goggles)"


async def two_courses(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Chemistry")
    await bot.send(TEACHER_ID, "/new_course Physics")


async def ask_course(bot: BotHarness, args: str) -> dict[str, str]:
    [question] = await bot.send(TEACHER_ID, f"/start_session {args}")
    assert "Which course" in question
    markup: dict[str, Any] = bot.request.calls[-1].params["reply_markup"]
    found = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    assert all(len(data.encode()) <= MAX_CALLBACK_BYTES for data in found.values())
    return found


async def test_options_survive_the_course_buttons(bot: BotHarness, clock: ManualClock) -> None:
    await two_courses(bot)
    choice = await ask_course(bot, f"25 {LONG_TITLE} geo rotate=45")
    await bot.press(TEACHER_ID, choice["Physics"])
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert session.course_name == "Physics" and session.title == LONG_TITLE
    assert session.geo and session.rotation_seconds == 45
    assert (session.ends_at - session.started_at).total_seconds() == 25 * 60
    assert any("share yours now" in t for t in bot.request.texts(TEACHER_ID))
    await bot.send(TEACHER_ID, "/end_session")

    choice = await ask_course(bot, "fixed")
    await bot.press(TEACHER_ID, choice["Chemistry"])
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.rotation_seconds == 0 and not session.geo
    assert session.course_name == "Chemistry"


async def test_double_taps_open_one_session(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis
) -> None:
    await two_courses(bot)
    for round_ in range(10):
        choice = await ask_course(bot, f"20 Round {round_} rotate=60")
        data = choice["Chemistry" if round_ % 2 else "Physics"]
        await asyncio.gather(bot.press(TEACHER_ID, data), bot.press(TEACHER_ID, data))
        [open_one] = await open_sessions_of(clean_redis, TEACHER_ID)
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None and open_one.endswith(f"{{{session.id}}}")
        assert session.rotation_seconds == 60 and session.title == f"Round {round_}"
        cards = [c for c in bot.request.calls if c.method == "sendPhoto"]
        assert len(cards) == round_ + 1  # one card per round, not two
        # A later tap on the same keyboard opens nothing either.
        await bot.press(TEACHER_ID, data)
        assert len(await open_sessions_of(clean_redis, TEACHER_ID)) == 1
        [ended] = await bot.send(TEACHER_ID, "/end_session")
        assert "is closed" in ended
        assert await open_sessions_of(clean_redis, TEACHER_ID) == []
        clock.advance(seconds=5)


async def test_a_course_button_while_a_session_is_open_says_so(
    bot: BotHarness, clock: ManualClock
) -> None:
    await two_courses(bot)
    choice = await ask_course(bot, "20")
    await bot.send(TEACHER_ID, "/start_session Physics 20")
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, choice["Chemistry"])
    [answer] = [c for c in bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert (
        answer.params.get("show_alert") and "already have an open session" in answer.params["text"]
    )
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_name == "Physics"


async def test_teacher_with_25_courses_can_reach_every_course_from_the_start_question(
    bot: BotHarness, clock: ManualClock
) -> None:
    """The course question used to carry the first 20 courses and nothing else: 5 courses
    could not be picked. Now pages of 20 with "more courses ▶" / "◀ previous" buttons (each
    page edits the question in place), and the text says how to reach the others."""
    for i in range(25):
        await bot.send(TEACHER_ID, f"/new_course Course {i:02d}")
    since = len(bot.request.calls)
    [text] = await bot.send(TEACHER_ID, "/start_session 20 Late lab")
    assert "25 courses" in text and "more courses" in text
    [question] = [c for c in bot.request.calls[since:] if c.method == "sendMessage"]
    markup: dict[str, Any] = question.params["reply_markup"]
    seen: dict[str, str] = {}
    for _page in range(3):  # the last press on page 2 has no "more" left
        found = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
        assert len(found) <= 100
        assert all(len(data.encode()) <= MAX_CALLBACK_BYTES for data in found.values())
        seen.update({k: v for k, v in found.items() if k.startswith("Course")})
        more = [data for label, data in found.items() if label.startswith("more courses")]
        if not more:
            break
        before = len(bot.request.calls)
        await bot.press(TEACHER_ID, more[0])
        [edit] = [c for c in bot.request.calls[before:] if c.method == "editMessageReplyMarkup"]
        markup = edit.params["reply_markup"]
    assert set(seen) == {f"Course {i:02d}" for i in range(25)}
    back = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    assert "◀ previous" in back

    # The last course (on the second page) opens with the options typed at the start.
    await bot.press(TEACHER_ID, seen["Course 24"])
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_name == "Course 24"
    assert session.title == "Late lab"


async def test_a_forged_page_button_changes_nothing(bot: BotHarness, clock: ManualClock) -> None:
    from bot import replies

    await two_courses(bot)
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, "sp:x:zz")
    await bot.press(2, "sp:1:0123456789ab")  # not a teacher
    answers = [c for c in bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 2 and answers[0].params.get("text") == replies.BAD_BUTTON
    assert "Only teachers" in str(answers[1].params.get("text"))
    assert not [c for c in bot.request.calls[before:] if c.method.startswith("edit")]
