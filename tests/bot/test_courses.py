"""Courses through the real Application on real Redis and PostgreSQL, with a manual clock."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import pytest
from openpyxl import load_workbook
from redis.asyncio import Redis

from bot.notifier import TelegramNotifier
from bot.replies.files import report_labels
from services.clock import ManualClock
from services.models import AttendanceStatus
from services.report_files import report_csv
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov"]
STUDENTS = list(range(20_001, 20_041))


def name_of(student: int) -> str:
    i = student - STUDENTS[0]
    return f"{FIRST[i % 8]} {LAST[i // 8]}"


async def new_course(bot: BotHarness, name: str = "Math 101") -> tuple[str, str]:
    [reply] = await bot.send(TEACHER_ID, f"/new_course {name}")
    code = re.search(r"/join ([A-Z0-9]{8})", reply)
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", reply)
    assert code and link, reply
    return code[1], link[1]


async def enrol_all(bot: BotHarness, link: str, students: list[int]) -> None:
    for student in students:
        replies = await bot.send(student, f"/start {link}")
        assert "enrolled in <b>Math 101</b>" in replies[0]
        assert "full name" in replies[1]
        [thanks] = await bot.send(student, f"{name_of(student)} S{student}")
        assert name_of(student) in thanks


async def open_session(bot: BotHarness, args: str = "Math 101 60") -> str:
    [card] = await bot.send(TEACHER_ID, f"/start_session {args}")
    match = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert match, card
    return match[1]


async def sweep_and_summarise(bot: BotHarness) -> None:
    await bot.services.sweeper.sweep_attendances()
    notifier = TelegramNotifier(bot.app.bot, bot.services_tz)
    await bot.services.sweeper.deliver_summaries(notifier)


async def test_forty_students_five_sessions_report_adds_up(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    _, link = await new_course(bot)
    await enrol_all(bot, link, STUDENTS)
    expected: dict[int, list[AttendanceStatus]] = {s: [] for s in STUDENTS}
    session_ids: list[str] = []
    for number in range(5):
        code = await open_session(bot)
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None and session.roster_size == 40
        session_ids.append(session.id)
        # Students i with (i + number) % 7 == 0 stay away; % 5 == 0 come after 12 minutes.
        on_time = [s for s in STUDENTS if (s + number) % 7 and (s + number) % 5]
        late = [s for s in STUDENTS if (s + number) % 7 and not (s + number) % 5]
        clock.advance(minutes=2)
        for student in on_time:
            [reply] = await bot.send(student, f"/checkin {code}")
            assert "Checked in" in reply and "late" not in reply
        clock.advance(minutes=10)
        for student in late:
            [reply] = await bot.send(student, f"/checkin {code}")
            assert "(late)" in reply
        for student in STUDENTS:
            status = (
                AttendanceStatus.PRESENT
                if student in on_time
                else AttendanceStatus.LATE
                if student in late
                else AttendanceStatus.ABSENT
            )
            expected[student].append(status)
        if number == 1:
            excused = next(s for s in STUDENTS if expected[s][-1] is AttendanceStatus.ABSENT)
            [reply] = await bot.send(TEACHER_ID, f"/mark S{excused} excused")
            assert "absent → <b>excused</b>" in reply, reply
            expected[excused][-1] = AttendanceStatus.EXCUSED
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await sweep_and_summarise(bot)
        clock.advance(days=2)

    # A correction on a swept session: absent -> present in the third session.
    corrected = next(s for s in STUDENTS if expected[s][2] is AttendanceStatus.ABSENT)
    [reply] = await bot.send(TEACHER_ID, f"/mark S{corrected} present {session_ids[2]}")
    assert "absent → <b>present</b>" in reply, reply
    expected[corrected][2] = AttendanceStatus.PRESENT

    def percent(statuses: list[AttendanceStatus]) -> float:
        c = Counter(statuses)
        counted = len(statuses) - c[AttendanceStatus.EXCUSED]
        attended = c[AttendanceStatus.PRESENT] + c[AttendanceStatus.LATE]
        return 100.0 * attended / counted

    before = len(bot.request.calls)
    table = (await bot.send(TEACHER_ID, "/report"))[0]
    assert_valid_telegram_html(table)
    assert "5 sessions, 40 students" in table and "Page 1 of 2" in table
    # The second page: "Next ▶" edits the same message.
    markup = next(c for c in bot.request.calls[before:] if c.method == "sendMessage").params
    [[next_page]] = markup["reply_markup"]["inline_keyboard"]
    assert next_page["text"] == "Next ▶"
    await bot.press(TEACHER_ID, next_page["callback_data"])
    [second] = [c.text for c in bot.request.calls[before:] if c.method == "editMessageText"]
    assert "Page 2 of 2" in second
    for student in STUDENTS:
        c = Counter(expected[student])
        counts = (
            f"{c[AttendanceStatus.PRESENT]} {c[AttendanceStatus.LATE]} "
            f"{c[AttendanceStatus.EXCUSED]} {c[AttendanceStatus.ABSENT]} {name_of(student)}"
        )
        row = f"{percent(expected[student]):>3.0f}% <grade> {counts}"
        # The grade (tests/bot/test_grading.py checks its numbers) sits between rate and counts.
        rate = re.escape(f"{percent(expected[student]):>3.0f}% ")
        line = re.compile(rf"\n{rate} *[0-9.]+ {re.escape(counts)}(\n|</pre>)")
        assert bool(line.search(table)) != bool(line.search(second)), row

    files = [f for c in bot.request.calls[before:] for f in c.params.get("_files", {}).values()]
    [(xlsx_name, xlsx), (gradebook, _), (_, png)] = files
    assert gradebook.endswith(".csv")
    assert xlsx_name.endswith(".xlsx") and png.startswith(b"\x89PNG\r\n\x1a\n")
    sheet = load_workbook(io.BytesIO(xlsx))["Students"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 40
    by_id = {int(r[0]): r for r in rows}  # type: ignore[arg-type]

    course = (await bot.services.courses.teacher_courses(TEACHER_ID))[0]
    report = await bot.services.reports.course_report(TEACHER_ID, course)
    csv_rows = {
        int(r["student_id"]): r
        for r in csv.DictReader(
            io.StringIO(report_csv(report, report_labels()).decode("utf-8-sig"))
        )
    }
    for student in STUDENTS:
        c = Counter(expected[student])
        numbers = [
            5,
            c[AttendanceStatus.PRESENT],
            c[AttendanceStatus.LATE],
            c[AttendanceStatus.EXCUSED],
            c[AttendanceStatus.ABSENT],
        ]
        assert list(by_id[student][3:8]) == numbers
        assert by_id[student][8] == pytest.approx(round(percent(expected[student]), 1))
        assert by_id[student][2] == name_of(student)
        r = csv_rows[student]
        assert [int(r[k]) for k in ("sessions", "present", "late", "excused", "absent")] == numbers
        assert float(r["attendance_percent"]) == pytest.approx(round(percent(expected[student]), 1))

    audit = sorted(await stored_tables.rows("attendance_audit"), key=lambda r: r["id"])
    assert [
        (r["student_id"], r["old_status"], r["new_status"], r["changed_by"]) for r in audit
    ] == [
        (excused, "absent", "excused", TEACHER_ID),
        (corrected, "absent", "present", TEACHER_ID),
    ]


async def test_enrolment_rules(bot: BotHarness, clock: ManualClock) -> None:
    join_code, link = await new_course(bot)
    students = STUDENTS[:40]
    await enrol_all(bot, link, students)
    [again] = await bot.send(students[0], f"/join {join_code.lower()}")
    assert "already enrolled" in again
    [wrong] = await bot.send(students[0], "/join ZZZZ2222")
    assert "No course has that code" in wrong
    [bad] = await bot.send(students[0], "/join 💥")
    assert "8 letters and digits" in bad
    [bad_link] = await bot.send(students[0], "/start join_forged")
    assert "invite link is not valid" in bad_link

    code = await open_session(bot)
    for student in students:
        [reply] = await bot.send(student, f"/checkin {code}")
        assert "Checked in" in reply
    outsider = 99_999
    [refused] = await bot.send(outsider, f"/checkin {code}")
    assert "not enrolled" in refused and "/join" in refused
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert await bot.services.live.checkins.checkin_count(session.id) == 40  # a 41st is impossible
    # Joining during the session admits the student at once.
    await bot.send(outsider, f"/join {join_code}")
    [admitted] = await bot.send(outsider, f"/checkin {code}")
    assert "Checked in" in admitted


async def test_mark_ambiguous_and_permissions(
    bot: BotHarness, clock: ManualClock, clean_redis: Redis
) -> None:
    _, link = await new_course(bot)
    await enrol_all(bot, link, STUDENTS[:10])
    await open_session(bot)
    [ambiguous] = await bot.send(TEACHER_ID, "/mark Ada absent")  # Ada Lovelace, Ada Turing
    assert "Several students match" in ambiguous
    assert "Ada Lovelace" in ambiguous and "Ada Turing" in ambiguous
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert await clean_redis.hlen(f"attn:s:{{{session.id}}}:marks") == 0
    [unknown] = await bot.send(TEACHER_ID, "/mark Zed present")
    assert "No enrolled student matches" in unknown
    [usage] = await bot.send(TEACHER_ID, "/mark Ada sometimes")
    assert "/mark &lt;student&gt;" in usage
    for command in ("/mark Ada absent", "/report", "/new_course X", "/courses", "/summary"):
        [refused] = await bot.send(STUDENTS[0], command)
        assert "Only teachers" in refused, command


async def test_start_session_offers_courses_as_buttons(bot: BotHarness) -> None:
    await new_course(bot, "Math 101")
    await new_course(bot, "Physics")
    [ask] = await bot.send(TEACHER_ID, "/start_session 20")
    assert "Which course" in ask
    markup = bot.request.calls[-1].params["reply_markup"]
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["Math 101", "Physics"]
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    await bot.press(TEACHER_ID, buttons[1]["callback_data"])
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.course_name == "Physics"
    assert (session.ends_at - session.started_at).total_seconds() == 20 * 60
    # Forged data naming another teacher's or no course starts nothing.
    await bot.send(TEACHER_ID, "/end_session")
    await bot.press(TEACHER_ID, "ss:999999:10:")
    await bot.press(5, buttons[0]["callback_data"])
    await bot.press(TEACHER_ID, "ss:abc")
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    assert await bot.services.sessions.open_session(5) is None


async def test_warnings_follow_the_threshold_rules(bot: BotHarness, clock: ManualClock) -> None:
    _, link = await new_course(bot)
    regular, truant = STUDENTS[0], STUDENTS[1]
    await enrol_all(bot, link, [regular, truant])
    nudges_seen: list[int] = []
    at_risk_lines: list[bool] = []
    for number in range(7):
        code = await open_session(bot)
        await bot.send(regular, f"/checkin {code}")
        if number == 0:
            await bot.send(truant, f"/checkin {code}")
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await sweep_and_summarise(bot)
        clock.advance(days=1)
        nudges_seen.append(sum("Heads-up" in t for t in bot.request.texts(truant)))
        summary = bot.request.texts(TEACHER_ID)[-1]
        at_risk_lines.append("At risk" in summary and name_of(truant) in summary)
        assert sum("Heads-up" in t for t in bot.request.texts(regular)) == 0
    # Truant: 1/1, 1/2 (50%, but fewer than 3 sessions), 1/3 -> nudge, then at most every 3.
    assert nudges_seen == [0, 0, 1, 1, 1, 2, 2]
    assert at_risk_lines == [False, False, True, True, True, True, True]


async def test_history_settings_and_summary_again(bot: BotHarness, clock: ManualClock) -> None:
    _, link = await new_course(bot)
    student = STUDENTS[0]
    await enrol_all(bot, link, [student])
    [empty] = await bot.send(student, "/history")
    assert "Math 101</b>: no sessions yet" in empty
    [settings] = await bot.send(TEACHER_ID, "/course_settings Math 101 late 5 warn 80")
    assert "late after 5 min, warn below 80%" in settings
    [bad] = await bot.send(TEACHER_ID, "/course_settings Math 101 late 999")
    assert "0 to 240" in bad
    [usage] = await bot.send(TEACHER_ID, "/course_settings Math 101 late")
    assert "/course_settings &lt;course&gt;" in usage
    for number in range(2):
        code = await open_session(bot)
        clock.advance(minutes=6 * number)  # the second time: after the 5-minute threshold
        await bot.send(student, f"/checkin {code}")
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await sweep_and_summarise(bot)
    [history] = await bot.send(student, "/history")
    assert "Math 101</b>: 100% — 1 present, 1 late, 0 excused, 0 absent of 2" in history
    before = len(bot.request.texts(TEACHER_ID))
    await bot.send(TEACHER_ID, "/summary")
    again = bot.request.texts(TEACHER_ID)[before:]
    assert any("Summary: Math 101" in t and "(late)" in t for t in again)
    [none] = await bot.send(TEACHER_ID, "/summary nosuchsession")
    assert "no saved session" in none
    [courses] = await bot.send(TEACHER_ID, "/courses")
    assert "Math 101</b> — 1 student\n" in courses and "start=join_" in courses
