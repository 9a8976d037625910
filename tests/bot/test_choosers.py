"""Choosers everywhere: /mark with no arguments done with buttons only (session → student →
status, one message edited in place, paged), /report, /course_settings and /summary offering
buttons when the course or session is missing or unknown, forged buttons refused, and the
report readable on a phone (every line at most 35 characters, every student on one page)."""

from __future__ import annotations

import re
from typing import Any

from bot.choosers import PER_PAGE
from bot.keyboards import MAX_CALLBACK_BYTES
from bot.notifier import TelegramNotifier
from bot.replies.reports import PHONE_WIDTH
from bot.telegram_limits import visible_length
from services.clock import ManualClock
from services.models import UserProfile
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

OTHER_TEACHER = 7_777
STUDENTS = list(range(60_001, 60_026))  # 25: three pages of students


def name_of(student: int) -> str:
    return f"Student {student - STUDENTS[0]:02d} Example"


async def course_with_students(bot: BotHarness, name: str, students: list[int]) -> int:
    [made] = await bot.send(TEACHER_ID, f"/new_course {name}")
    join = re.search(r"/join ([A-Z0-9]{8})", made)
    assert join, made
    for student in students:
        profile = UserProfile(student, first_name=name_of(student))
        await bot.services.courses.join_by_code(profile, join[1])
    [course] = [c for c in await bot.services.courses.teacher_courses(TEACHER_ID) if c.name == name]
    return course.id


async def saved_session(bot: BotHarness, clock: ManualClock, course: str, checked: int) -> str:
    """A session of `course` where `checked` checked in, ended, swept and summarised."""
    [card] = await bot.send(TEACHER_ID, f"/start_session {course} 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    await bot.send(checked, f"/checkin {code[1]}")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    clock.advance(hours=1)
    return session.id


async def make_teacher(bot: BotHarness, user: int) -> None:
    """Another teacher, invited by the admin (/add_teacher)."""
    [link] = await bot.send(ADMIN_ID, "/add_teacher")
    token = re.search(r"start=(teach_[A-Za-z0-9_-]+)", link)
    assert token
    await bot.send(user, f"/start {token[1]}")
    assert await bot.services.roles.is_teacher(user)


class Screen:
    """The teacher's chooser message as Telegram shows it: text and buttons."""

    def __init__(self, bot: BotHarness, message_id: int, user: int = TEACHER_ID) -> None:
        self.bot, self.message_id, self.user = bot, message_id, user

    @classmethod
    def last(cls, bot: BotHarness, user: int = TEACHER_ID) -> Screen:
        [*_, message] = [m for m in bot.request.api.chat_messages(user) if "reply_markup" in m]
        return cls(bot, int(message["message_id"]), user)

    def _message(self) -> dict[str, Any]:
        [message] = [
            m
            for m in self.bot.request.api.chat_messages(self.user)
            if m["message_id"] == self.message_id
        ]
        return message

    @property
    def text(self) -> str:
        return str(self._message().get("text", ""))

    @property
    def buttons(self) -> dict[str, str]:
        markup = self._message().get("reply_markup") or {"inline_keyboard": []}
        found = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
        assert all(len(data.encode()) <= MAX_CALLBACK_BYTES for data in found.values())
        return found

    async def tap(self, label: str, user: int | None = None) -> None:
        data = self.buttons[label]
        await self.bot.press(user or self.user, data, message_id=self.message_id)


def answers(bot: BotHarness, since: int) -> list[dict[str, Any]]:
    return [c.params for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]


async def test_mark_with_no_arguments_is_done_with_buttons_only(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """A saved session: /mark alone, then the session, the page with the 23rd student, the
    student and "excused": the status is stored, the audit row written, and the one message
    the teacher tapped through says so. Then the live session the same way."""
    await course_with_students(bot, "Chemistry", STUDENTS)
    await course_with_students(bot, "Physics", STUDENTS[:2])
    target = STUDENTS[22]
    saved = await saved_session(bot, clock, "Chemistry", STUDENTS[0])
    sends_before = len(bot.request.sent(TEACHER_ID))

    [question] = await bot.send(TEACHER_ID, "/mark")
    assert question == "Which session do you want to correct?"
    screen = Screen.last(bot)
    [label] = [b for b in screen.buttons if "Chemistry" in b]
    await screen.tap(label)
    assert "which student?" in screen.text and "Chemistry" in screen.text
    assert len([b for b in screen.buttons if b.startswith("Student")]) == PER_PAGE
    await screen.tap("Next ▶")
    await screen.tap("Next ▶")
    assert "◀ Prev" in screen.buttons and "Next ▶" not in screen.buttons
    await screen.tap(name_of(target))
    assert f"{name_of(target)} in Chemistry" in screen.text
    await screen.tap("📝 excused")
    assert f"{name_of(target)} in Chemistry" in screen.text and "absent → excused" in screen.text
    assert "Mark another student" in screen.buttons
    # One message, edited in place: nothing new was sent after the question.
    assert len(bot.request.sent(TEACHER_ID)) == sends_before + 1

    [row] = [
        r
        for r in await stored_tables.rows("attendance")
        if r["session_id"] == saved and r["student_id"] == target
    ]
    assert row["status"] == "excused"
    [audit] = [r for r in await stored_tables.rows("attendance_audit") if r["session_id"] == saved]
    assert (audit["student_id"], audit["changed_by"]) == (target, TEACHER_ID)
    assert (audit["old_status"], audit["new_status"]) == ("absent", "excused")

    # The live session is offered first, and a correction in it is audited the same way.
    [card] = await bot.send(TEACHER_ID, "/start_session Physics 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code
    await bot.send(STUDENTS[1], f"/checkin {code[1]}")
    live = await bot.services.sessions.open_session(TEACHER_ID)
    assert live is not None
    await bot.send(TEACHER_ID, "/mark")
    screen = Screen.last(bot)
    first = next(iter(screen.buttons))
    assert first.startswith("live now · Physics")
    await screen.tap(first)
    await screen.tap(name_of(STUDENTS[1]))
    await screen.tap("⏰ late")
    assert "present → late" in screen.text
    audits = await stored_tables.rows("attendance_audit")
    [live_audit] = [r for r in audits if r["session_id"] == live.id]
    assert (live_audit["old_status"], live_audit["new_status"]) == ("present", "late")
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    [stored] = [
        r
        for r in await stored_tables.rows("attendance")
        if r["session_id"] == live.id and r["student_id"] == STUDENTS[1]
    ]
    assert stored["status"] == "late"


async def test_forged_mark_buttons_change_nothing(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """Another teacher replaying the first teacher's button data is refused at every step;
    malformed data is refused as an unknown button."""
    await course_with_students(bot, "Chemistry", STUDENTS[:3])
    saved = await saved_session(bot, clock, "Chemistry", STUDENTS[0])
    await make_teacher(bot, OTHER_TEACHER)
    not_yours = "That session isn't yours: nothing was changed."
    for data, alert in (
        (f"mk:s:{saved}:0", not_yours),
        (f"mk:u:{saved}:{STUDENTS[1]}", not_yours),
        (f"mk:x:{saved}:{STUDENTS[1]}:p", not_yours),
        (f"mk:x:{saved}:{STUDENTS[1]}:z", "That button is no longer valid."),
        ("mk:x:nothex:1:p", "That button is no longer valid."),
    ):
        since = len(bot.request.calls)
        await bot.press(OTHER_TEACHER, data)
        [answer] = answers(bot, since)
        assert answer.get("show_alert"), (data, answer)
        assert answer.get("text") == alert, (data, answer)
        assert not [c for c in bot.request.calls[since:] if c.method == "editMessageText"]
    assert await stored_tables.rows("attendance_audit") == []


async def test_report_course_settings_and_summary_offer_buttons(
    bot: BotHarness, clock: ManualClock
) -> None:
    """With two courses and none named: /report and /course_settings ask with buttons and
    the pick replaces the question; /summary with a name that fits no session offers the
    saved ones. Another teacher's course id in forged data is refused."""
    chemistry = await course_with_students(bot, "Chemistry", STUDENTS[:3])
    await course_with_students(bot, "Physics", STUDENTS[:2])
    saved = await saved_session(bot, clock, "Chemistry", STUDENTS[0])

    [which] = await bot.send(TEACHER_ID, "/report")
    assert which.startswith("Which course?")
    screen = Screen.last(bot)
    assert set(screen.buttons) == {"Chemistry", "Physics"}
    files_before = len(bot.request.files(TEACHER_ID))
    await screen.tap("Chemistry")
    assert screen.text.startswith("Report: Chemistry") and "3 students" in screen.text
    # The XLSX, the gradebook CSV and the chart.
    assert len(bot.request.files(TEACHER_ID)) == files_before + 3

    [which] = await bot.send(TEACHER_ID, "/course_settings")
    assert which.startswith("Which course's settings?")
    screen = Screen.last(bot)
    await screen.tap("Physics")
    assert "Physics" in screen.text and "late after" in screen.text

    [which] = await bot.send(TEACHER_ID, "/summary nosuch")
    assert "no saved session called “nosuch”" in which
    screen = Screen.last(bot)
    [label] = screen.buttons
    before = len(bot.request.texts(TEACHER_ID))
    await screen.tap(label)
    assert any("Summary: Chemistry" in t for t in bot.request.texts(TEACHER_ID)[before:])
    # The start of a session's id is enough when it fits one session.
    before = len(bot.request.texts(TEACHER_ID))
    await bot.send(TEACHER_ID, f"/summary {saved[:4]}")
    assert any("Summary: Chemistry" in t for t in bot.request.texts(TEACHER_ID)[before:])

    await make_teacher(bot, OTHER_TEACHER)
    for data, whose in (
        (f"rp:c:{chemistry}", "course"),
        (f"rp:p:{chemistry}:1", "course"),
        (f"cs:c:{chemistry}", "course"),
        (f"sm:s:{saved}", "session"),
    ):
        since = len(bot.request.calls)
        await bot.press(OTHER_TEACHER, data)
        [answer] = answers(bot, since)
        assert answer.get("show_alert"), (data, answer)
        assert answer.get("text") == f"That {whose} isn't yours: nothing was changed.", answer
        assert not [c for c in bot.request.calls[since:] if c.method != "answerCallbackQuery"]


async def test_report_of_300_students_with_long_names_fits_a_phone(
    bot: BotHarness, clock: ManualClock
) -> None:
    """300 students with long names: every line of every page is at most 35 characters as
    Telegram shows it, and paging through with Next shows each student exactly once."""
    students = list(range(70_001, 70_301))
    [made] = await bot.send(
        TEACHER_ID, "/new_course Advanced Organic Chemistry and Molecular Spectroscopy"
    )
    join = re.search(r"/join ([A-Z0-9]{8})", made)
    assert join
    names = {}
    for n, student in enumerate(students):
        names[student] = f"{n:03d} Alexandrina-Maximiliana Featherstonehaugh-Wolfe"
        profile = UserProfile(student, first_name=names[student])
        await bot.services.courses.join_by_code(profile, join[1])

    await bot.send(TEACHER_ID, "/report")
    screen = Screen.last(bot)
    seen: list[str] = []
    for _ in range(40):
        html = next(
            c.text
            for c in reversed(bot.request.calls)
            if c.method in ("sendMessage", "editMessageText")
        )
        assert_valid_telegram_html(html)
        for line in html.split("\n"):
            assert visible_length(line) <= PHONE_WIDTH, line
        for line in screen.text.split("\n"):
            assert len(line) <= PHONE_WIDTH, line
        # No session yet: the rate 100 %, no grade (—), nothing counted.
        seen += re.findall(r"^100% +— 0 0 0 0 (\d{3}) ", screen.text, re.MULTILINE)
        if "Next ▶" not in screen.buttons:
            break
        await screen.tap("Next ▶")
    assert sorted(seen) == [f"{n:03d}" for n in range(300)]
    assert len(seen) == 300
    # And back: "◀ Prev" edits the same message to the page before.
    await screen.tap("◀ Prev")
    assert "Page 11 of 12" in screen.text
