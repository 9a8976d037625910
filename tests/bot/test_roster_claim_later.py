"""An enrolled student without a place claims theirs later (`/join` again).

The roster has place 1001; the student joins and types 1010 by mistake, the teacher approves
the mismatch, so the student is enrolled with no place while 1001 stands in absent beside
them. `/join` again asks for the number (not "already enrolled" and a name); 1001 is then
theirs: the place's records so far become the student's, their own record winning for a
session both have, so /report counts them once per session and no longer lists the place
as never claimed.
"""

from __future__ import annotations

import re

from services.clock import ManualClock
from tests.bot.test_roster_import import buttons, new_course
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

STUDENT = 65_001


async def held_session(bot: BotHarness, clock: ManualClock, course: str, *students: int) -> None:
    """A session of `course` where `students` check in, ended and swept."""
    [card] = await bot.send(TEACHER_ID, f"/start_session {course} 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    for student in students:
        [reply] = await bot.send(student, f"/checkin {code[1]}")
        assert "Checked in" in reply, reply
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    clock.advance(minutes=60)


async def test_a_mistyped_number_approved_then_the_place_claimed_later(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    join = await new_course(bot, "Geology")
    before = len(bot.request.calls)
    await bot.send_document(TEACHER_ID, b"1001,Ada Lovelace\n1002,Alan Turing\n", "r.csv")
    [(_, data)] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, data)

    # The typo goes to the teacher, who approves it: enrolled, with no place.
    await bot.send(STUDENT, f"/join {join}")
    before = len(bot.request.calls)
    await bot.send(STUDENT, "1010")
    [(_, approve), _] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, approve)
    assert "you are in <b>Geology</b>" in bot.request.texts(STUDENT)[-1]
    await held_session(bot, clock, "Geology", STUDENT)  # present, and 1001 absent beside

    # /join again: the number is asked for, not a name.
    [ask] = await bot.send(STUDENT, f"/join {join}")
    assert "has an official roster: send me your student number" in ask, ask
    [welcome] = await bot.send(STUDENT, "1001")
    assert "Welcome to <b>Geology</b>, Ada Lovelace" in welcome, welcome

    [place] = [
        p for p in await stored_tables.rows("roster_places") if p["student_number"] == "1001"
    ]
    assert (place["claimed_by"], place["stand_in"]) == (STUDENT, None)
    attendance = await stored_tables.rows("attendance")
    mine = [r["status"] for r in attendance if r["student_id"] == STUDENT]
    assert mine == ["present"]  # the student's own record won over the place's absence
    assert len(attendance) == 2  # the student and Alan's unclaimed place
    audit = sorted(await stored_tables.rows("course_audit"), key=lambda r: r["id"])
    assert (audit[-1]["action"], audit[-1]["changed_by"], audit[-1]["new_value"]) == (
        "claim_place",
        STUDENT,
        "1001",
    )

    table = (await bot.send(TEACHER_ID, "/report Geology"))[0]
    assert "1 session, 2 students" in table, table
    rows = re.findall(r"^\s*\d+%\s+\d+ (\d) (\d) (\d) (\d) ([^<\n]+)", table, re.MULTILINE)
    # One row each, one record per session: Ada present once, Alan's place absent.
    assert sorted(rows) == [
        ("0", "0", "0", "1", "Alan Turing"),
        ("1", "0", "0", "0", "Ada Lovelace"),
    ]
    unclaimed = table.split("Never claimed their place (1)")[1]
    assert "Alan Turing (1002)" in unclaimed and "1001" not in unclaimed, table

    # Holding a place, /join again says they are already in; nothing is asked.
    [again] = await bot.send(STUDENT, f"/join {join}")
    assert "already" in again, again
    [profile] = [u for u in await stored_tables.rows("users") if u["id"] == STUDENT]
    assert (profile["full_name"], profile["student_number"]) == ("Ada Lovelace", "1001")
