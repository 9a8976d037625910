"""Co-teachers and assistants through the bot: one-time links, what each role may do on each
course command (anyone else refused, nothing changed), menus, summaries and removal."""

from __future__ import annotations

import re

from bot.handlers import REGISTRY
from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from services.course_access import GRANTS
from services.models import CourseRole
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

CO, ASSIST, STRANGER = 6001, 6002, 6003  # none of them a teacher
OTHER = 3001  # a second teacher, invited by the admin
ANN, BOB = 5001, 5002  # students
ONLY_TEACHERS = "Only teachers can do that"
ASSISTANT_REFUSED = "An assistant cannot do that"
CO_TEACHER_REFUSED = "A co-teacher cannot do that"


async def new_course(bot: BotHarness, name: str = "Math 101") -> tuple[int, str]:
    [reply] = await bot.send(TEACHER_ID, f"/new_course {name}")
    code = re.search(r"/join ([A-Z0-9]{8})", reply)
    assert code, reply
    [course] = [c for c in await bot.services.courses.teacher_courses(TEACHER_ID) if c.name == name]
    return course.id, code[1]


async def staff_link(bot: BotHarness, course_id: int, letter: str) -> str:
    """The owner presses "Invite a co-teacher" (c) or "Invite an assistant" (a) under /staff."""
    await bot.press(TEACHER_ID, f"sf:i:{course_id}:{letter}")
    reply = bot.request.texts(TEACHER_ID)[-1]
    link = re.search(r"https://t\.me/\w+\?start=(staff_[A-Za-z0-9_-]+)", reply)
    assert link, reply
    return link[1]


async def say(bot: BotHarness, user: int, text: str) -> list[str]:
    """Send `text`; the texts the bot sent to that user (others may be told something too)."""
    before = len(bot.request.texts(user))
    await bot.send(user, text)
    return bot.request.texts(user)[before:]


async def join_staff(bot: BotHarness, course_id: int) -> None:
    """CO becomes a co-teacher and ASSIST an assistant of the course, by link."""
    [joined] = await say(bot, CO, f"/start {await staff_link(bot, course_id, 'c')}")
    assert joined == "You are now a co-teacher of <b>Math 101</b>. /help shows your commands."
    [joined] = await say(bot, ASSIST, f"/start {await staff_link(bot, course_id, 'a')}")
    assert joined.startswith("You are now an assistant of <b>Math 101</b>")


async def enrol(bot: BotHarness, student: int, code: str, name: str) -> None:
    replies = await bot.send(student, f"/join {code}")
    assert "enrolled in" in replies[0], replies
    if len(replies) > 1:
        await bot.send(student, name)


async def course_audit(tables: StoredTables) -> list[tuple[str, int, str | None, str | None]]:
    rows = sorted(await tables.rows("course_audit"), key=lambda r: r["id"])
    return [(r["action"], r["changed_by"], r["old_value"], r["new_value"]) for r in rows]


async def test_a_staff_link_works_once(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    [listing] = await bot.send(TEACHER_ID, "/staff")
    assert listing.startswith("<b>Staff of Math 101</b>") and "No co-teachers" in listing
    link = await staff_link(bot, course_id, "a")
    assert "works once, within 7 days" in bot.request.texts(TEACHER_ID)[-1]

    # The owner opening their own link leaves it unused.
    [own] = await bot.send(TEACHER_ID, f"/start {link}")
    assert own.startswith("This invitation is for your own course")
    [joined] = await say(bot, ASSIST, f"/start {link}")
    assert joined.startswith("You are now an assistant of <b>Math 101</b>")
    notice = bot.request.texts(TEACHER_ID)[-1]
    assert notice == f"User{ASSIST} is now an assistant of <b>Math 101</b>."
    # Used: a second person (or the same one again) is refused, nothing changes.
    for user in (STRANGER, ASSIST):
        [refused] = await bot.send(user, f"/start {link}")
        assert refused.startswith("This staff invitation is not valid")
    [forged] = await bot.send(STRANGER, "/start staff_" + "x" * 32)
    assert forged.startswith("This staff invitation is not valid")
    assert ONLY_TEACHERS in (await bot.send(STRANGER, "/start_session Math 101"))[0]

    # A week later an unused link has expired.
    late = await staff_link(bot, course_id, "c")
    clock.advance(days=7, seconds=1)
    [expired] = await bot.send(STRANGER, f"/start {late}")
    assert expired.startswith("This staff invitation is not valid")
    assert await course_audit(stored_tables) == [("add_staff", ASSIST, None, "assistant")]
    [listing] = await bot.send(TEACHER_ID, "/staff Math 101")
    assert "• " in listing and "— assistant" in listing


async def test_each_role_on_each_course_command(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    course_id, code = await new_course(bot)
    await join_staff(bot, course_id)
    await enrol(bot, ANN, code, "Ann Lee")
    await enrol(bot, BOB, code, "Bob Ray")
    from tests.bot.test_course_lifecycle import make_teacher

    await make_teacher(bot, OTHER)
    await bot.send(OTHER, "/new_course Physics")
    audit_before = await course_audit(stored_tables)

    # /courses: the course, marked with the role, for its staff; not for anyone else.
    for user, mark in ((CO, "👥 co-teacher"), (ASSIST, "👥 assistant")):
        [listing] = await bot.send(user, "/courses")
        assert f"{mark} <b>Math 101</b>" in listing, listing
    assert "Math 101" not in (await bot.send(OTHER, "/courses"))[0]
    assert ONLY_TEACHERS in (await bot.send(STRANGER, "/courses"))[0]

    # Refused, with one short line, and nothing changes.
    refusals = [
        (ASSIST, "/report Math 101", ASSISTANT_REFUSED),
        (ASSIST, "/course_settings Math 101 late 3", ASSISTANT_REFUSED),
        (ASSIST, "/rename_course Math 101 Algebra", ASSISTANT_REFUSED),
        (ASSIST, "/remove_student Math 101 Ann", ASSISTANT_REFUSED),
        (ASSIST, "/new_join_code Math 101", ASSISTANT_REFUSED),
        (ASSIST, "/archive_course Math 101", ASSISTANT_REFUSED),
        (ASSIST, "/staff Math 101", ASSISTANT_REFUSED),
        (ASSIST, "/new_course Physics", ONLY_TEACHERS),
        (CO, "/archive_course Math 101", CO_TEACHER_REFUSED),
        (CO, "/staff Math 101", CO_TEACHER_REFUSED),
        (CO, "/new_course Physics", ONLY_TEACHERS),
        (OTHER, "/course_settings Math 101 late 3", "You have no course by that name"),
        (OTHER, "/rename_course Math 101 Mine", "You have no course by that name"),
        (OTHER, "/staff Math 101", "You have no course by that name"),
        (STRANGER, "/report Math 101", ONLY_TEACHERS),
        (STRANGER, "/mark Ann present", ONLY_TEACHERS),
        (ANN, "/start_session Math 101", ONLY_TEACHERS),
    ]
    for user, command, expected in refusals:
        replies = await bot.send(user, command)
        assert len(replies) == 1 and expected in replies[0], (user, command, replies)
    assert await course_audit(stored_tables) == audit_before
    [course] = await bot.services.records.staff.staff_courses(CO)
    assert (course[0].name, course[0].late_after_minutes, course[0].archived) == (
        "Math 101",
        10,
        False,
    )
    # Forged buttons of the course: refused to those whose role does not allow them.
    await bot.press(ASSIST, f"rp:c:{course_id}")
    await bot.press(CO, f"sf:i:{course_id}:a")
    await bot.press(OTHER, f"cs:c:{course_id}")
    alerts = [
        c.params.get("text", "") for c in bot.request.calls if c.method == "answerCallbackQuery"
    ]
    assert ASSISTANT_REFUSED in alerts[-3] and CO_TEACHER_REFUSED in alerts[-2]
    assert "isn't yours" in alerts[-1]

    # The assistant runs a session of the course; it is theirs (slot, card, summary).
    await bot.send(ASSIST, "/start_session Math 101 30")
    session = await bot.services.sessions.open_session(ASSIST)
    assert session is not None and session.course_id == course_id
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    [checked] = await bot.send(ANN, f"/checkin {session.code}")
    assert "Checked in" in checked
    # The co-teacher marks in it (the live session of their course), the assistant too.
    [marked] = await bot.send(CO, "/mark Bob excused")  # the session a colleague runs
    assert "Bob Ray" in marked and "excused" in marked
    [marked] = await bot.send(ASSIST, "/mark Ann late")
    assert "Ann Lee" in marked and "late" in marked
    [ended] = await bot.send(ASSIST, "/end_session")
    assert "is closed" in ended
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    summaries = [t for t in bot.request.texts(ASSIST) if t.startswith("<b>Summary")]
    assert len(summaries) == 1 and "Started by " in summaries[0]
    assert not [t for t in bot.request.texts(TEACHER_ID) if t.startswith("<b>Summary")]
    audit = sorted(await stored_tables.rows("attendance_audit"), key=lambda r: r["id"])
    assert [(r["student_id"], r["changed_by"], r["new_status"]) for r in audit] == [
        (BOB, CO, "excused"),
        (ANN, ASSIST, "late"),
    ]
    [stored] = await stored_tables.rows("sessions")
    assert stored["teacher_id"] == ASSIST  # who started it

    # The co-teacher may do what the owner does, but archive or change the staff.
    report = (await bot.send(CO, "/report Math 101"))[0]
    assert "Math 101" in report
    [settings] = await bot.send(CO, "/course_settings Math 101 late 5")
    assert "5 min" in settings
    [renamed] = await bot.send(CO, "/rename_course Math 101 Algebra")
    assert renamed == "Renamed <b>Math 101</b> to <b>Algebra</b>."
    assert (await course_audit(stored_tables))[-1] == ("rename", CO, "Math 101", "Algebra")


async def test_help_and_menus_follow_the_role(bot: BotHarness) -> None:
    course_id, _ = await new_course(bot)
    await join_staff(bot, course_id)
    assistant = {c.name for c in REGISTRY if c.staff in GRANTS[CourseRole.ASSISTANT]}
    assert assistant == {"start_session", "end_session", "extend", "mark", "summary", "courses"}
    [help_text] = await bot.send(ASSIST, "/help")
    for name in assistant:
        assert f"/{name}" in help_text, name
    for name in ("report", "new_course", "course_settings", "staff"):
        assert f"/{name} " not in help_text and f"/{name}\n" not in help_text, name
    menus = [
        c
        for c in bot.request.calls
        if c.method == "setMyCommands" and c.params.get("scope", {}).get("chat_id") == ASSIST
    ]
    assert {c["command"] for c in menus[-1].params["commands"]} >= assistant
    assert "report" not in {c["command"] for c in menus[-1].params["commands"]}
    co_menu = [
        c
        for c in bot.request.calls
        if c.method == "setMyCommands" and c.params.get("scope", {}).get("chat_id") == CO
    ][-1]
    names = {c["command"] for c in co_menu.params["commands"]}
    assert {"report", "course_settings", "rename_course"} <= names
    assert not names & {"archive_course", "staff", "new_course"}


async def test_the_owner_removes_staff(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    await join_staff(bot, course_id)
    [listing] = await bot.send(TEACHER_ID, "/staff")
    assert "— co-teacher" in listing and "— assistant" in listing
    # Only the owner: a co-teacher's forged removal changes nothing.
    await bot.press(CO, f"sf:r:{course_id}:{ASSIST}")
    assert await bot.services.records.staff.staff_role(course_id, user_id=ASSIST) is not None

    await bot.press(TEACHER_ID, f"sf:r:{course_id}:{ASSIST}")
    assert await bot.services.records.staff.staff_role(course_id, user_id=ASSIST) is None
    assert "You are no longer on the staff of <b>Math 101</b>." in bot.request.texts(ASSIST)
    edited = [c for c in bot.request.calls if c.method == "editMessageText"][-1]
    assert "— assistant" not in edited.text and "— co-teacher" in edited.text
    await bot.press(TEACHER_ID, f"sf:r:{course_id}:{ASSIST}")  # a double tap
    alerts = [
        c.params.get("text", "") for c in bot.request.calls if c.method == "answerCallbackQuery"
    ]
    assert alerts[-1] == "Already removed."

    assert ONLY_TEACHERS in (await bot.send(ASSIST, "/start_session Math 101"))[0]
    assert ONLY_TEACHERS in (await bot.send(ASSIST, "/courses"))[0]
    menus = [
        c
        for c in bot.request.calls
        if c.params.get("scope", {}).get("chat_id") == ASSIST
        and c.method in ("setMyCommands", "deleteMyCommands")
    ]
    assert menus[-1].method == "deleteMyCommands"
    assert (await course_audit(stored_tables))[-1] == (
        "remove_staff",
        TEACHER_ID,
        f"{ASSIST} assistant",
        None,
    )


async def test_mydata_shows_the_roles_and_forgetme_ends_them(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    course_id, _ = await new_course(bot)
    await join_staff(bot, course_id)
    [data] = await bot.send(ASSIST, "/mydata")
    assert "Co-teacher or assistant of: Math 101 (assistant)" in data
    await bot.send(ASSIST, "/forgetme")
    await bot.press(ASSIST, "fg:yes")
    assert await bot.services.records.staff.staff_role(course_id, user_id=ASSIST) is None
    invites = await stored_tables.rows("course_staff_invites")
    assert ASSIST not in {row["used_by"] for row in invites}
    assert CO in {row["used_by"] for row in invites}
    assert ONLY_TEACHERS in (await bot.send(ASSIST, "/start_session Math 101"))[0]


async def test_staff_get_the_timetable_reminder_and_an_assistant_starts_the_class(
    bot: BotHarness, clock: ManualClock
) -> None:
    from datetime import UTC, datetime, time

    from bot.jobs import timetable_task
    from services.timetable_slots import SlotRule

    clock.set(datetime(2027, 3, 1, 12, tzinfo=UTC))  # Monday; the course is on UTC
    course_id, _ = await new_course(bot)
    await join_staff(bot, course_id)
    await bot.services.timetables.add_slot(TEACHER_ID, course_id, SlotRule(2, time(10), 60))
    clock.set(datetime(2027, 3, 3, 9, 45, tzinfo=UTC))
    before = {user: len(bot.request.texts(user)) for user in (TEACHER_ID, CO, ASSIST)}
    await timetable_task(bot.app.context_types.context(bot.app))
    for user in (TEACHER_ID, CO, ASSIST):
        [reminder] = bot.request.texts(user)[before[user] :]
        assert reminder.startswith("⏰ Math 101 starts at 2027-03-03 10:00"), (user, reminder)
    assert STRANGER not in {c.params.get("chat_id") for c in bot.request.calls}

    clock.set(datetime(2027, 3, 3, 9, 50, tzinfo=UTC))
    await bot.press(ASSIST, f"tt:n:{course_id}")
    early = await bot.services.sessions.open_session(ASSIST)
    assert early is not None and early.course_id == course_id
    assert early.ends_at == datetime(2027, 3, 3, 11, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 3, 10, 0, tzinfo=UTC))
    await timetable_task(bot.app.context_types.context(bot.app))  # the class is open already
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    await bot.press(STRANGER, f"tt:n:{course_id}")  # anyone else: refused, nothing opened
    assert await bot.services.sessions.open_session(STRANGER) is None


async def test_a_claim_with_a_wrong_number_reaches_the_co_teacher_too(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    """The co-teacher who manages the roster gets the question as well (the assistant, who
    does not, gets nothing); the first tap decides, the owner's later tap is told so."""
    course_id, code = await new_course(bot)
    await join_staff(bot, course_id)
    await bot.send_document(CO, b"No;Name\n1001;Ann Lee\n", "roster.csv")
    [course_button] = last_buttons(bot, CO).values()
    await bot.press(CO, course_button)
    assert "New places: 1" in bot.request.texts(CO)[-1]
    assistant_before = len(bot.request.texts(ASSIST))
    await bot.send(ANN, f"/join {code}")
    await bot.send(ANN, "9999")
    asked = "wants to join <b>Math 101</b> with student number 9999"
    assert asked in bot.request.texts(TEACHER_ID)[-1]
    assert asked in bot.request.texts(CO)[-1]
    assert len(bot.request.texts(ASSIST)) == assistant_before
    await bot.press(CO, last_buttons(bot, CO)["Approve"])
    assert "in <b>Math 101</b>" in bot.request.texts(ANN)[-1]
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, last_buttons(bot, TEACHER_ID)["Approve"])
    [alert] = [c.params for c in bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert alert["text"] == "This request has already been answered."
    assert await stored_tables.rows("roster_claims") == []
    assert ANN in await bot.services.records.courses.roster(course_id)


def last_buttons(bot: BotHarness, user: int) -> dict[str, str]:
    """{label: data} of the newest message with buttons in the user's chat."""
    [*_, message] = [m for m in bot.request.api.chat_messages(user) if "reply_markup" in m]
    rows = message["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for r in rows for b in r}
