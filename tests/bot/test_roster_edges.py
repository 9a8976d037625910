"""A roster that changes while a session runs, and after: a student removed by the teacher
or leaving with /leave is off the live card's roster and missing list and cannot check in
any more (a check-in already made stays recorded); their history stays in /report, marked.
"""

from __future__ import annotations

import re

from bot.cards import refresh_cards
from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

ANN, BOB, CAROL, DAN = 5101, 5102, 5103, 5104
EDITS = ("editMessageCaption", "editMessageMedia", "editMessageText")


async def course(bot: BotHarness, name: str, students: dict[int, str]) -> str:
    [made] = await bot.send(TEACHER_ID, f"/new_course {name}")
    code = re.search(r"/join ([A-Z0-9]{8})", made)
    assert code, made
    for student, full_name in students.items():
        replies = await bot.send(student, f"/join {code[1]}")
        if len(replies) > 1 or "name" in replies[-1]:
            await bot.send(student, full_name)
    return code[1]


async def start(bot: BotHarness, name: str) -> str:
    [card] = await bot.send(TEACHER_ID, f"/start_session {name} 30 fixed")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    return code[1]


def card_buttons(bot: BotHarness) -> dict[str, str]:
    posted = [c for c in bot.request.calls if c.method == "sendPhoto"][-1]
    markup = posted.params["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in markup for b in row}


async def leave(bot: BotHarness, student: int) -> None:
    [ask] = await bot.send(student, "/leave")
    assert "Leave <b>" in ask, ask
    yes = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await bot.press(student, yes["callback_data"])


async def test_removed_and_leaving_students_leave_the_live_roster(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """Ann (not checked in) removed, Bob leaves, Carol removed after checking in: Ann and
    Bob are neither missing nor absent and cannot check in; Carol's check-in is saved; the
    card counts Carol and Dan only."""
    await course(
        bot, "Optics", {ANN: "Ann Smith", BOB: "Bob Jones", CAROL: "Carol White", DAN: "Dan Ray"}
    )
    code = await start(bot, "Optics")
    assert "Checked in" in (await bot.send(CAROL, f"/checkin {code}"))[0]
    await bot.send(TEACHER_ID, "/remove_student Optics Ann")
    await bot.send(TEACHER_ID, "/remove_student Optics Carol")
    await leave(bot, BOB)

    for student in (ANN, BOB):
        [refused] = await bot.send(student, f"/checkin {code}")
        assert "You are not enrolled in the course" in refused, refused
    [again] = await bot.send(CAROL, f"/checkin {code}")
    assert "already" in again.lower(), again  # her check-in stands

    buttons = card_buttons(bot)
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, buttons["Who is missing"])
    [missing] = [c.text for c in bot.request.calls[since:] if c.method == "sendMessage"]
    assert "Dan Ray" in missing and "(1)" in missing, missing
    for gone in ("Ann", "Bob", "Carol"):
        assert gone not in missing, missing

    clock.advance(seconds=10)
    await refresh_cards(bot.app.context_types.context(bot.app))
    [*_, edit] = [c for c in bot.request.calls if c.method in EDITS]
    assert "<b>1 / 2</b> checked in" in edit.text, edit.text  # Carol of Carol and Dan

    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    rows = {r["student_id"]: r["status"] for r in await stored_tables.rows("attendance")}
    assert rows == {CAROL: "present", DAN: "absent"}


async def test_joining_during_a_session_counts_on_the_card(
    bot: BotHarness, clock: ManualClock
) -> None:
    """A student who joins while the session runs is admitted and counted: "1 / 2", never
    "1 / 1" with two students checked in."""
    join = await course(bot, "Acoustics", {ANN: "Ann Smith"})
    code = await start(bot, "Acoustics")
    await course_join(bot, BOB, join, "Bob Jones")
    assert "Checked in" in (await bot.send(BOB, f"/checkin {code}"))[0]
    clock.advance(seconds=10)
    await refresh_cards(bot.app.context_types.context(bot.app))
    [*_, edit] = [c for c in bot.request.calls if c.method in EDITS]
    assert "<b>1 / 2</b> checked in" in edit.text, edit.text


async def course_join(bot: BotHarness, student: int, code: str, name: str) -> None:
    replies = await bot.send(student, f"/join {code}")
    if len(replies) > 1 or "name" in replies[-1]:
        await bot.send(student, name)


async def test_report_keeps_removed_and_leaving_students_marked(
    bot: BotHarness, clock: ManualClock
) -> None:
    """The only student, removed after a session, is still in /report (marked, with the
    legend) instead of "nobody joined"; a student who left too; the file says who is
    enrolled. A student removed before any session has no records and is not listed."""
    await course(bot, "Optics", {ANN: "Ann Smith"})
    code = await start(bot, "Optics")
    await bot.send(ANN, f"/checkin {code}")
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    await bot.send(TEACHER_ID, "/remove_student Optics Ann")

    report = (await bot.send(TEACHER_ID, "/report Optics"))[0]
    assert "Nobody has joined yet" not in report, report
    assert "0 students" in report and "(left): no longer in the course" in report, report
    row = r"^100% +100 +1 +0 +0 +0 \(left\) Ann Smith(</pre>)?$"  # rate, grade, P L E A
    assert re.search(row, report, re.MULTILINE), report

    join = await course(bot, "Acoustics", {BOB: "Bob Jones", CAROL: "Carol White"})
    clock.advance(minutes=1)
    code = await start(bot, "Acoustics")
    await bot.send(BOB, f"/checkin {code}")
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await leave_course(bot, CAROL, "Acoustics")
    await course_join(bot, DAN, join, "Dan Ray")
    await bot.send(TEACHER_ID, "/remove_student Acoustics Dan")  # no records: not listed
    report = (await bot.send(TEACHER_ID, "/report Acoustics"))[0]
    lines = report.split("\n")
    bob = next(i for i, line in enumerate(lines) if " Bob Jones" in line)
    carol = next(i for i, line in enumerate(lines) if " (left) Carol White" in line)
    assert bob < carol and "1 student," not in report and "Dan" not in report, report
    assert "1 student" in report, report

    import io

    from openpyxl import load_workbook

    [*_, xlsx] = [f for f in bot.request.files(TEACHER_ID) if f[0].endswith(".xlsx")]
    sheet = load_workbook(io.BytesIO(xlsx[1])).worksheets[0]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][-1] == "enrolled"
    assert {row[2]: row[-1] for row in table[1:]} == {"Bob Jones": True, "Carol White": False}


async def leave_course(bot: BotHarness, student: int, name: str) -> None:
    [ask] = await bot.send(student, f"/leave {name}")
    assert f"Leave <b>{name}</b>?" in ask, ask
    yes = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await bot.press(student, yes["callback_data"])
