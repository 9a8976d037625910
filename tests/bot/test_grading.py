"""Grading (issue 13, item 5): /grading sets a course's policy; /history shows each student's
grade and how many more sessions they can miss; /report's table, its XLSX and the gradebook
CSV carry the grade.

The expected numbers are computed by hand below (not by the code under test): a course of 12
saved sessions and 5 students with every mix of statuses, under the default policy graded to
date, then under another policy graded over a 16-session term with 3 absences allowed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

from openpyxl import load_workbook

from bot.container import Services
from services.models import AttendanceStatus, CheckIn, Session, SessionState
from services.timetable_slots import SlotRule, Timetable
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
ANA, BEN, CARLA, DAN, EVA = 41_001, 41_002, 41_003, 41_004, 41_005

# Each student's status in sessions 1..12 (P present, L late, E excused, A absent).
RECORDS = {
    ANA: [P] * 12,  # 12 P
    BEN: [P, L, P, L, E, P, L, P, A, P, L, P],  # 6 P, 4 L, 1 E, 1 A
    CARLA: [P, A, L, E, A, P, E, A, L, E, A, P],  # 3 P, 2 L, 3 E, 4 A
    DAN: [E] * 12,  # 12 E
    EVA: [P, P, L, E, P, A, P, P, E, P, A, P],  # 7 P, 1 L, 2 E, 2 A
}
NAMES = {ANA: "Ana Soto", BEN: "Ben Ruiz", CARLA: "-Carla Vidal", DAN: "Dan Ito", EVA: "Eva Lund"}
NUMBERS = {ANA: "S1", BEN: "S2", CARLA: "S3", DAN: "S4", EVA: "S5"}

# Default policy (present 1, late 0.8, absent 0, excused left out), to date, warning 70 %.
# grade = (P + 0.8 L) / (12 - E); rate = (P + L) / (12 - E); can miss the next k while
# (P + L) / (12 - E + k) >= 0.70:
#   Ana   12/12 = 100.0;  rate 12/12 = 100 %;  12/17 = 70.6 % ok, 12/18 = 66.7 % → 5
#   Ben   9.2/11 = 83.6;  rate 10/11 = 91 %;   10/14 = 71.4 % ok, 10/15 = 66.7 % → 3
#   Carla 4.6/9 = 51.1;   rate 5/9 = 56 %;     already below → 0 (and told so)
#   Dan   nothing counted (12 excused): no grade; 0/1 would be 0 % → 0
#   Eva   7.8/10 = 78.0;  rate 8/10 = 80 %;    8/11 = 72.7 % ok, 8/12 = 66.7 % → 1
TO_DATE = {
    ANA: ("Grade: 100.0%", "You can miss the next 5 sessions and stay at or above 70%"),
    BEN: ("Grade: 83.6%", "You can miss the next 3 sessions and stay at or above 70%"),
    CARLA: ("Grade: 51.1%", "Your attendance is below 70% already"),
    DAN: ("Grade: none yet", "Missing one more session would take you below 70%"),
    EVA: ("Grade: 78.0%", "You can miss the next 1 session and stay at or above 70%"),
}
RATES = {ANA: "100%", BEN: "91%", CARLA: "56%", DAN: "100%", EVA: "80%"}

# late=0.5 excused=present basis=term planned=16 allowed=3: 4 sessions still to come.
# grade = (P + 0.5 L + E) / 16; attended = P + L + E; over the term, miss k of the 4 left:
# (attended + 4 - k) / 16 >= 0.70, i.e. k <= attended + 4 - 11.2; and k <= 3 - A.
#   Ana   12/16 = 75.0;    attended 12: k <= 4.8 → 4; allowed 3 - 0 = 3 → 3
#   Ben   9/16 = 56.25 → 56.3 (half up); attended 11: k <= 3.8 → 3; allowed 3 - 1 = 2 → 2
#   Carla 7/16 = 43.75 → 43.8; attended 8: k <= 0.8 → 0; 4 absences, over the 3 allowed
#   Dan   12/16 = 75.0;    attended 12 → 4; allowed 3 → 3
#   Eva   9.5/16 = 59.375 → 59.4; attended 10: k <= 2.8 → 2; allowed 3 - 2 = 1 → 1
TERM = {
    ANA: ("Grade: 75.0%", "You can still miss 3 sessions this term and stay at or above 70%"),
    BEN: ("Grade: 56.3%", "You can still miss 2 sessions this term and stay at or above 70%"),
    CARLA: ("Grade: 43.8%", "You have missed 4 sessions, more than the 3 allowed"),
    DAN: ("Grade: 75.0%", "You can still miss 3 sessions this term and stay at or above 70%"),
    EVA: ("Grade: 59.4%", "You can still miss 1 session this term and stay at or above 70%"),
}


async def course_of_twelve(bot: BotHarness, services: Services) -> int:
    """Math 101 with the five students enrolled and 12 saved sessions; its id."""
    [created] = await bot.send(TEACHER_ID, "/new_course Math 101")
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", created)
    assert link, created
    for student, name in NAMES.items():
        await bot.send(student, f"/start {link[1]}")
        await bot.send(student, f"{name} {NUMBERS[student]}")
    [course] = await services.records.courses.teacher_courses(TEACHER_ID)
    for i in range(12):
        started = T0 + timedelta(days=i)
        session_id = f"{i + 1:012x}"
        session = Session(
            id=session_id,
            teacher_id=TEACHER_ID,
            chat_id=TEACHER_ID,
            title=f"Week {i + 1}",
            code="",
            started_at=started,
            ends_at=started + timedelta(hours=1),
            state=SessionState.SEALED,
            late_at=started + timedelta(minutes=10),
            course_id=course.id,
        )
        rows = [
            CheckIn(session_id, student, None, statuses[i]) for student, statuses in RECORDS.items()
        ]
        await services.records.sessions.persist_session(session, rows)
    return course.id


def plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


async def history_of(bot: BotHarness, student: int) -> str:
    [reply] = await bot.send(student, "/history")
    assert_valid_telegram_html(reply)
    return plain(reply)


async def test_grades_and_sessions_left_match_the_hand_computed_table(
    bot: BotHarness, services: Services
) -> None:
    await course_of_twelve(bot, services)
    for student, (grade, can_miss) in TO_DATE.items():
        history = await history_of(bot, student)
        assert f"Math 101: {RATES[student]}" in history, history
        assert grade in history and can_miss in history, history

    [policy] = await bot.send(
        TEACHER_ID,
        "/grading Math 101 late=0.5 excused=present basis=term planned 16 allowed=3",
    )
    assert_valid_telegram_html(policy)
    shown = plain(policy)
    assert "Points per session: present 1, late 0.5, absent 0" in shown
    assert "Excused sessions count as present" in shown
    assert "over the whole term: 16 planned sessions" in shown
    assert "At most 3 absences allowed" in shown
    assert "After 3 absences in a row, the student and you are alerted" in shown
    for student, (grade, can_miss) in TERM.items():
        history = await history_of(bot, student)
        assert grade in history and can_miss in history, history


async def test_report_and_gradebook_carry_the_grade(bot: BotHarness, services: Services) -> None:
    await course_of_twelve(bot, services)
    since = len(bot.request.calls)
    table = (await bot.send(TEACHER_ID, "/report Math 101"))[0]
    lines = [line.split() for line in plain(table).splitlines() if re.match(r" *\d+% ", line)]
    rows = {words[-1]: words for words in lines}
    assert len(rows) == 5, table
    # The rate, then the grade, then P L E A, then the name (cut to fit a phone).
    assert rows["Ruiz"][:2] == ["91%", "84"]  # whole numbers on a phone; files have 83.6
    assert rows["Ito"][:2] == ["100%", "—"]
    files = {
        name: data
        for c in bot.request.calls[since:]
        for name, data in c.params.get("_files", {}).values()
    }
    gradebook = files["gradebook-Math-101.csv"]
    assert not gradebook.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    lines = list(csv.reader(io.StringIO(gradebook.decode("utf-8"))))
    assert lines[0] == ["student_number", "name", "grade"]
    assert sorted(lines[1:]) == sorted(
        [
            ["S1", "Ana Soto", "100.0"],
            ["S2", "Ben Ruiz", "83.6"],
            ["S3", "'-Carla Vidal", "51.1"],  # never a formula
            ["S4", "Dan Ito", ""],
            ["S5", "Eva Lund", "78.0"],
        ]
    )
    sheet = load_workbook(io.BytesIO(files["attendance-Math-101.xlsx"])).active
    assert sheet is not None
    table_rows = list(sheet.iter_rows(values_only=True))
    column = table_rows[0].index("grade")
    assert table_rows[0][column - 1] == "attendance_percent"
    grades = {row[2]: row[column] for row in table_rows[1:]}
    assert grades["Eva Lund"] == 78.0 and grades["Dan Ito"] in ("", None)


async def test_bad_grading_values_change_nothing(bot: BotHarness, services: Services) -> None:
    await course_of_twelve(bot, services)
    for typed, answer in [
        ("late=1.5", "Points are a number from 0 to 1"),
        ("late=0.805", "Points are a number from 0 to 1"),
        ("late=²", "Points are a number from 0 to 1"),
        ("excused=maybe", "excused= takes out"),
        ("basis=week", "basis= takes date"),
        ("alert=parents", "alert= takes student, teacher or both"),
        ("allowed=-1", "from 0 to 1000"),
        ("streak=1000", "from 0 to 100"),
        ("late=0.5 colour=red", "/grading [course]"),
        ("late", "/grading [course]"),
    ]:
        [reply] = await bot.send(TEACHER_ID, f"/grading Math 101 {typed}")
        assert answer in plain(reply), (typed, reply)
    history = await history_of(bot, BEN)
    assert "Grade: 83.6%" in history  # the default policy still


async def test_only_the_courses_teacher_sees_or_changes_its_grading(
    bot: BotHarness, services: Services
) -> None:
    course_id = await course_of_twelve(bot, services)
    [reply] = await bot.send(BEN, "/grading Math 101 late=0")
    assert "teacher" in plain(reply).lower()
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, f"gr:c:{course_id + 1000}")  # forged: not their course
    assert [c.method for c in bot.request.calls[since:]] == ["answerCallbackQuery"]
    await bot.press(TEACHER_ID, f"gr:c:{course_id}")
    [edited] = [c.text for c in bot.request.calls[since:] if c.method == "editMessageText"]
    assert "Grading — Math 101" in plain(edited)
    assert "Grade: 83.6%" in await history_of(bot, BEN)


async def test_over_the_term_a_timetable_gives_the_planned_sessions(
    bot: BotHarness, services: Services
) -> None:
    """Mondays and Wednesdays from 7 September to 30 October (8 weeks, 16 classes) with a
    holiday on Monday 12 October: 15 planned sessions, 12 held, 3 still to come.

    Default points, excused left out, warning 70 %:
      Ana  12 / 15 = 80.0;  attended 12 of 12 + 3: k <= (1500 - 70 x 15) / 100 = 4.5, at
           most the 3 to come → 3
      Ben  9.2 / (11 + 3) = 65.71 → 65.7;  attended 10: k <= (1300 - 70 x 14) / 100 = 3.2 → 3
    """
    course_id = await course_of_twelve(bot, services)
    await services.records.timetables.save_timetable(
        Timetable(
            course_id,
            date(2026, 9, 7),
            date(2026, 10, 30),
            T0,
            rules=(SlotRule(0, time(10), 90), SlotRule(2, time(10), 90)),
            holidays=frozenset({date(2026, 10, 12)}),
        )
    )
    [reply] = await bot.send(TEACHER_ID, "/grading Math 101 basis=term")
    assert "planned sessions is not set" in plain(reply)  # /grading's own number: none
    ana, ben = await history_of(bot, ANA), await history_of(bot, BEN)
    assert "Grade: 80.0%" in ana
    assert "You can still miss 3 sessions this term and stay at or above 70%" in ana
    assert "Grade: 65.7%" in ben
    assert "You can still miss 3 sessions this term and stay at or above 70%" in ben
