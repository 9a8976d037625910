"""Taps as they come from real thumbs: a double tap on a chooser's button (the second finds
the message showing that step already, and whatever the step sends is sent once), and a
button tapped after what it names has changed."""

from __future__ import annotations

from services.clock import ManualClock
from tests.bot.test_choosers import (
    STUDENTS,
    Screen,
    course_with_students,
    name_of,
    saved_session,
)
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables


async def test_a_course_tapped_twice_in_report_sends_its_files_once(
    bot: BotHarness, clock: ManualClock
) -> None:
    await course_with_students(bot, "Chemistry", STUDENTS[:3])
    await course_with_students(bot, "Physics", STUDENTS[:2])
    await saved_session(bot, clock, "Chemistry", STUDENTS[0])
    await bot.send(TEACHER_ID, "/report")
    screen = Screen.last(bot)
    chemistry = screen.buttons["Chemistry"]
    files_before = len(bot.request.files(TEACHER_ID))

    await bot.press(TEACHER_ID, chemistry, message_id=screen.message_id)
    assert "Report: Chemistry" in screen.text
    sent = len(bot.request.files(TEACHER_ID)) - files_before
    assert sent == 3  # the spreadsheet, the gradebook and the chart

    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, chemistry, message_id=screen.message_id)
    assert len(bot.request.files(TEACHER_ID)) - files_before == sent
    assert "Report: Chemistry" in screen.text
    answered = [c for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]
    assert len(answered) == 1 and answered[0].status == 200


async def test_a_status_button_for_a_student_removed_since_says_so(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    await course_with_students(bot, "Chemistry", STUDENTS[:3])
    await saved_session(bot, clock, "Chemistry", STUDENTS[0])
    await bot.send(TEACHER_ID, "/mark")
    screen = Screen.last(bot)
    await screen.tap(next(b for b in screen.buttons if "Chemistry" in b))
    await screen.tap(name_of(STUDENTS[1]))
    late = screen.buttons["⏰ late"]
    [removed] = await bot.send(TEACHER_ID, f"/remove_student Chemistry {name_of(STUDENTS[1])}")
    assert "is no longer in" in removed

    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, late, message_id=screen.message_id)
    [alert] = [c.params for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]
    assert alert["text"] == "That student is no longer in the course: nothing was changed."
    assert await stored_tables.rows("attendance_audit") == []


async def test_a_session_tapped_twice_in_the_summary_chooser_sends_its_summary_once(
    bot: BotHarness, clock: ManualClock
) -> None:
    await course_with_students(bot, "Chemistry", STUDENTS[:2])
    await saved_session(bot, clock, "Chemistry", STUDENTS[0])
    await bot.send(TEACHER_ID, "/summary nosuch")
    screen = Screen.last(bot)
    [label] = screen.buttons
    button = screen.buttons[label]
    before = len(bot.request.texts(TEACHER_ID))

    await bot.press(TEACHER_ID, button, message_id=screen.message_id)
    assert screen.text == "That session's summary follows." and not screen.buttons
    summaries = [t for t in bot.request.texts(TEACHER_ID)[before:] if "Summary: Chemistry" in t]
    assert len(summaries) == 1

    await bot.press(TEACHER_ID, button, message_id=screen.message_id)
    again = [t for t in bot.request.texts(TEACHER_ID)[before:] if "Summary: Chemistry" in t]
    assert again == summaries
