"""A course's life through the bot: rename, archive, remove, leave, new join code, transfer.

Each action is done through built updates, its audit row is read back from the stored
tables, and each is refused to another teacher, a student (and, for transfer, a teacher).
"""

from __future__ import annotations

import re

from services.clock import ManualClock
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import Row, StoredTables

OTHER = 3001  # a second teacher, invited by the admin
ANN, BOB = 5001, 5002  # students


async def make_teacher(bot: BotHarness, user_id: int) -> None:
    [invite] = await bot.send(ADMIN_ID, "/add_teacher")
    token = re.search(r"start=(teach_[A-Za-z0-9_-]+)", invite)
    assert token, invite
    [welcome] = await bot.send(user_id, f"/start {token[1]}")
    assert "You are now a teacher" in welcome


async def new_course(bot: BotHarness, name: str, teacher: int = TEACHER_ID) -> tuple[str, str]:
    [reply] = await bot.send(teacher, f"/new_course {name}")
    code = re.search(r"/join ([A-Z0-9]{8})", reply)
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", reply)
    assert code and link, reply
    return code[1], link[1]


async def enrol(bot: BotHarness, student: int, code: str, name: str) -> None:
    replies = await bot.send(student, f"/join {code}")
    assert "enrolled in" in replies[0], replies
    if len(replies) > 1:  # asked for a name
        await bot.send(student, name)


async def audit(tables: StoredTables) -> list[tuple[str, int, str | None, str | None]]:
    rows: list[Row] = sorted(await tables.rows("course_audit"), key=lambda r: r["id"])
    for row in rows:
        assert row["changed_at"] is not None and row["course_id"] is not None
    return [(r["action"], r["changed_by"], r["old_value"], r["new_value"]) for r in rows]


async def test_rename_archive_and_unarchive(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    await make_teacher(bot, OTHER)
    code, _ = await new_course(bot, "Math 101")
    await new_course(bot, "Physics")

    # Refused to anyone else: a student, another teacher (not their course), an empty name.
    assert "Only teachers" in (await bot.send(ANN, "/rename_course Math 101 Algebra"))[0]
    assert "no course by that name" in (await bot.send(OTHER, "/rename_course Math 101 X"))[0]
    assert "Write it like this: /rename_course" in (await bot.send(TEACHER_ID, "/rename_course"))[0]
    taken = await bot.send(TEACHER_ID, "/rename_course Math 101 Physics")
    assert "already have a course with that name" in taken[0]
    assert await audit(stored_tables) == []

    [renamed] = await bot.send(TEACHER_ID, "/rename_course Math 101 Algebra I")
    assert renamed == "Renamed <b>Math 101</b> to <b>Algebra I</b>."
    [listing] = await bot.send(TEACHER_ID, "/courses")
    assert "<b>Algebra I</b>" in listing and "Math 101" not in listing

    # Archive: refused to others; then no new sessions, hidden from the course buttons.
    assert "Only teachers" in (await bot.send(ANN, "/archive_course Algebra I"))[0]
    assert "no course by that name" in (await bot.send(OTHER, "/archive_course Algebra I"))[0]
    [archived] = await bot.send(TEACHER_ID, "/archive_course Algebra I")
    assert "<b>Algebra I</b> is archived" in archived
    [again] = await bot.send(TEACHER_ID, "/archive_course Algebra I")
    assert "archived" in again  # already archived: nothing audited twice
    [refused] = await bot.send(TEACHER_ID, "/start_session Algebra I 30")
    assert "That course is archived" in refused
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    # With one active course left, /start_session alone opens it (no buttons offered).
    [card] = await bot.send(TEACHER_ID, "/start_session 30")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    physics = [
        c for c in await bot.services.courses.teacher_courses(TEACHER_ID) if c.name == "Physics"
    ]
    assert session is not None and session.course_id == physics[0].id, card
    await bot.send(TEACHER_ID, "/end_session")
    [listing] = await bot.send(TEACHER_ID, "/courses")
    assert "🗄 archived <b>Algebra I</b>" in listing
    # Kept in reports when named; left out of the choosers (one active course: no buttons).
    [report, *_] = await bot.send(TEACHER_ID, "/report Algebra I")
    assert "Algebra I" in report
    [report, *_] = await bot.send(TEACHER_ID, "/report")
    assert "Physics" in report and "Algebra I" not in report
    [settings] = await bot.send(TEACHER_ID, "/course_settings")
    assert "Physics" in settings and "Algebra I" not in settings

    assert "no course by that name" in (await bot.send(OTHER, "/unarchive_course Algebra I"))[0]
    [back] = await bot.send(TEACHER_ID, "/unarchive_course Algebra I")
    assert "<b>Algebra I</b> is active again" in back
    [not_archived] = await bot.send(TEACHER_ID, "/unarchive_course Algebra I")
    assert "not archived" in not_archived
    assert "<code>" in (await bot.send(TEACHER_ID, "/start_session Algebra I 30"))[0]

    assert await audit(stored_tables) == [
        ("rename", TEACHER_ID, "Math 101", "Algebra I"),
        ("archive", TEACHER_ID, None, None),
        ("unarchive", TEACHER_ID, None, None),
    ]
    assert code  # the join code outlives a rename


async def test_remove_a_student_and_leave(bot: BotHarness, stored_tables: StoredTables) -> None:
    await make_teacher(bot, OTHER)
    code, _ = await new_course(bot, "Math 101")
    await enrol(bot, ANN, code, "Ann Smith")
    await enrol(bot, BOB, code, "Bob Jones")
    [card] = await bot.send(TEACHER_ID, "/start_session Math 101 30")
    session_code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert session_code
    assert "Checked in" in (await bot.send(ANN, f"/checkin {session_code[1]}"))[0]
    await bot.send(TEACHER_ID, "/end_session")
    await bot.services.sweeper.sweep_attendances()

    # Refused: a student, another teacher, a name on no roster.
    assert "Only teachers" in (await bot.send(BOB, "/remove_student Math 101 Ann"))[0]
    assert "no course by that name" in (await bot.send(OTHER, "/remove_student Math 101 Ann"))[0]
    assert "No enrolled student" in (await bot.send(TEACHER_ID, "/remove_student Math 101 Zed"))[0]

    replies = await bot.send(TEACHER_ID, "/remove_student Math 101 Ann")
    assert (
        replies[0] == "Ann Smith is no longer in <b>Math 101</b>. Their attendance so far is kept."
    )
    notice = [
        c for c in bot.request.calls if c.method == "sendMessage" and c.params["chat_id"] == ANN
    ]
    assert "Your teacher removed you from <b>Math 101</b>" in notice[-1].params["text"]
    enrolled = {r["student_id"] for r in await stored_tables.rows("enrolments")}
    assert enrolled == {BOB}
    kept = [r for r in await stored_tables.rows("attendance") if r["student_id"] == ANN]
    assert len(kept) == 1  # records kept

    # /leave: asks with buttons; "Stay" changes nothing; a forged course id is refused.
    assert "not enrolled in any course" in (await bot.send(ANN, "/leave"))[0]
    [ask] = await bot.send(BOB, "/leave")
    assert "Leave <b>Math 101</b>?" in ask
    buttons = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"][0]
    yes, no = buttons[0]["callback_data"], buttons[1]["callback_data"]
    await bot.press(BOB, no)
    assert {r["student_id"] for r in await stored_tables.rows("enrolments")} == {BOB}
    await bot.press(ANN, yes)  # someone not enrolled pressing the same button
    assert {r["student_id"] for r in await stored_tables.rows("enrolments")} == {BOB}
    await bot.press(BOB, yes)
    edits = [c for c in bot.request.calls if c.method == "editMessageText"]
    assert edits[-1].params["text"] == "You left <b>Math 101</b>."
    assert await stored_tables.rows("enrolments") == []

    assert await audit(stored_tables) == [
        ("remove_student", TEACHER_ID, str(ANN), None),
        ("leave", BOB, str(BOB), None),
    ]


async def test_new_join_code_stops_the_old_code_and_link(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await make_teacher(bot, OTHER)
    code, link = await new_course(bot, "Math 101")
    assert "Only teachers" in (await bot.send(ANN, "/new_join_code Math 101"))[0]
    assert "no course by that name" in (await bot.send(OTHER, "/new_join_code Math 101"))[0]

    [fresh] = await bot.send(TEACHER_ID, "/new_join_code Math 101")
    new_code = re.search(r"/join ([A-Z0-9]{8})", fresh)
    new_link = re.search(r"start=(join_[A-Za-z0-9_-]+)", fresh)
    assert new_code and new_link and "no longer work" in fresh
    assert new_code[1] != code and new_link[1] != link
    assert "No course has that code" in (await bot.send(ANN, f"/join {code}"))[0]
    assert "enrolled" not in (await bot.send(ANN, f"/start {link}"))[0]
    assert "enrolled in <b>Math 101</b>" in (await bot.send(ANN, f"/join {new_code[1]}"))[0]
    assert "enrolled in <b>Math 101</b>" in (await bot.send(BOB, f"/start {new_link[1]}"))[0]

    assert await audit(stored_tables) == [("new_join_code", TEACHER_ID, code, new_code[1])]


async def test_transfer_is_for_admins_and_tells_the_new_teacher(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await make_teacher(bot, OTHER)
    code, _ = await new_course(bot, "Math 101")
    await enrol(bot, ANN, code, "Ann Smith")

    assert "Only admins" in (await bot.send(TEACHER_ID, f"/transfer_course {code} {OTHER}"))[0]
    assert "Only admins" in (await bot.send(OTHER, f"/transfer_course {code} {OTHER}"))[0]
    assert "Only admins" in (await bot.send(ANN, f"/transfer_course {code} {OTHER}"))[0]
    unknown = await bot.send(ADMIN_ID, f"/transfer_course {code} {ANN}")  # not a teacher
    assert "no teacher by that id" in unknown[0]
    assert await audit(stored_tables) == []

    before = len(bot.request.calls)
    await bot.send(ADMIN_ID, f"/transfer_course {code} {OTHER}")
    sent = {
        c.params["chat_id"]: c.params["text"]
        for c in bot.request.calls[before:]
        if c.method == "sendMessage"
    }
    assert sent[ADMIN_ID] == f"<b>Math 101</b> now belongs to teacher {OTHER}."
    assert "An admin gave you the course <b>Math 101</b> (1 student)" in sent[OTHER]
    assert "An admin gave your course <b>Math 101</b> to another teacher" in sent[TEACHER_ID]
    [theirs] = await bot.send(OTHER, "/courses")
    assert "<b>Math 101</b>" in theirs
    assert "no course by that name" in (await bot.send(TEACHER_ID, "/rename_course Math 101 X"))[0]
    [renamed] = await bot.send(OTHER, "/rename_course Math 101 Calculus")
    assert "Calculus" in renamed

    # Back, by @username: refused, the first teacher has a course by that name now.
    await bot.send(TEACHER_ID, f"/join {code}", username="tina")  # their profile is stored
    await new_course(bot, "Calculus")
    clash = await bot.send(ADMIN_ID, f"/transfer_course {code} @tina")
    assert "already has a course with this name" in clash[0]
    assert (
        "no teacher by that id" in (await bot.send(ADMIN_ID, f"/transfer_course {code} @nobody"))[0]
    )

    assert await audit(stored_tables) == [
        ("transfer", ADMIN_ID, str(TEACHER_ID), str(OTHER)),
        ("rename", OTHER, "Math 101", "Calculus"),
    ]
