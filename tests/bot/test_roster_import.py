"""Roster import and "claim your seat" through the real Application.

A teacher sends a 300-row CSV with 7 bad lines as a document; the bot downloads it (getFile
and the file URL, from the fake Bot API) once the course is picked with a button, imports the
valid rows as places and names each rejected line. Students claim their places by number; a
number that matches no free place goes to the teacher, who approves or declines with a tap.
Unclaimed places count absent in the session's summary and in /report, which lists them.
"""

from __future__ import annotations

import csv
import io
import re

from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from services.report_files import gradebook_csv
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

STUDENTS = list(range(61_001, 61_011))  # ten students who claim their places
STRANGER, IMPOSTOR = 61_050, 61_051

#: Line number (in the file, the header being line 1) -> what the report must say about it.
BAD_LINES = {
    12: "line 12: the same student number as line 4",
    40: "line 40: the name is empty",
    77: "line 77: a cell starts with = + - or @",
    101: "line 101: fields separated by “;”",
    150: "line 150: not UTF-8 like the rest of the file",
    201: "line 201: no valid student number",
    260: "line 260: the e-mail address is not valid",
}


def number_of(line: int) -> str:
    return f"2026{line:04d}"


def name_of(line: int) -> str:
    first = ["Zoë", "Łukasz", "Ana", "Bruno", "Chloé", "Dmitri", "Eva"][line % 7]
    return f"{first} Student{line:03d}"


def roster_csv() -> bytes:
    """A header and 300 rows (lines 2..301), UTF-8 with accented names; 7 bad lines."""
    lines = [b"Student number,Full name,E-mail,Group"]
    for line in range(2, 302):
        number, name, email = number_of(line), name_of(line), f"s{line}@uni.example"
        if line == 12:
            number = number_of(4)  # the same number as line 4
        if line == 40:
            name = ""
        if line == 77:
            name = '=HYPERLINK("http://evil.example","Click")'
        if line == 101:
            lines.append(f"{number};{name};{email};G1".encode())
            continue
        if line == 150:
            lines.append(f"{number},José Müller,{email},G1".encode("latin-1"))
            continue
        if line == 201:
            number = "ABC"
        if line == 260:
            email = "not-an-address"
        quoted = f'"{name}"' if "," in name else name
        lines.append(f"{number},{quoted},{email},G{line % 3}".encode())
    return b"\r\n".join(lines) + b"\r\n"


async def new_course(bot: BotHarness, name: str) -> str:
    [reply] = await bot.send(TEACHER_ID, f"/new_course {name}")
    code = re.search(r"/join ([A-Z0-9]{8})", reply)
    assert code, reply
    return code[1]


def buttons(bot: BotHarness, since: int, chat_id: int) -> list[tuple[str, str]]:
    """(label, data) of the buttons under the bot's messages to `chat_id` since call `since`."""
    found: list[tuple[str, str]] = []
    for call in bot.request.calls[since:]:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == chat_id:
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                found.extend((b["text"], b["callback_data"]) for b in row)
    return found


async def import_file(
    bot: BotHarness, content: bytes, filename: str, course: str
) -> tuple[list[str], list[tuple[str, bytes]]]:
    """Send the file, pick the course; (texts sent, files sent) after the press."""
    before = len(bot.request.calls)
    [question] = await bot.send_document(TEACHER_ID, content, filename)
    assert question == "Which course is this roster for?"
    [data] = [d for label, d in buttons(bot, before, TEACHER_ID) if label.endswith(course)]
    pressed = len(bot.request.calls)
    await bot.press(TEACHER_ID, data)
    new = bot.request.calls[pressed:]
    texts = [c.text for c in new if c.method in ("sendMessage", "editMessageText")]
    files = [f for c in new for f in c.params.get("_files", {}).values()]
    assert any(c.method == "getFile" and c.status == 200 for c in new)
    return texts, files


async def test_three_hundred_rows_seven_rejected_ten_claims_and_approvals(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    code = await new_course(bot, "Biology")
    await new_course(bot, "Chemistry")  # two courses: the buttons ask which

    texts, files = await import_file(bot, roster_csv(), "roster.csv", "Biology")
    report = texts[-1]
    assert_valid_telegram_html(report)
    assert "New places: 293" in report and "Lines rejected: 7" in report, report
    for expected in BAD_LINES.values():
        assert expected in report, (expected, report)
    assert files == []  # seven lines fit in the message
    places = await stored_tables.rows("roster_places")
    assert len(places) == 293
    assert {p["student_number"] for p in places} == {
        number_of(n) for n in range(2, 302) if n not in BAD_LINES
    }
    assert not any(str(p["full_name"]).startswith("=") for p in places)
    assert all(p["claimed_by"] is None and p["stand_in"] < 0 for p in places)

    # The same file again adds nothing: idempotent by student number.
    texts, _ = await import_file(bot, roster_csv(), "roster.csv", "Biology")
    assert "New places: 0" in texts[-1] and "(left as they were): 293" in texts[-1]
    assert len(await stored_tables.rows("roster_places")) == 293
    [listing] = await bot.send(TEACHER_ID, "/courses")
    assert "293" in listing, listing

    # Ten students claim their places with the join code and their number.
    claimed_lines = list(range(2, 12))
    for student, line in zip(STUDENTS, claimed_lines, strict=True):
        [ask] = await bot.send(student, f"/join {code}")
        assert "has an official roster: send me your student number" in ask, ask
        [welcome] = await bot.send(student, number_of(line).lower())
        assert f"Welcome to <b>Biology</b>, {name_of(line)}" in welcome, welcome
    places = {p["student_number"]: p for p in await stored_tables.rows("roster_places")}
    for student, line in zip(STUDENTS, claimed_lines, strict=True):
        assert places[number_of(line)]["claimed_by"] == student
        assert places[number_of(line)]["stand_in"] is None
    enrolments = {(r["course_id"], r["student_id"]) for r in await stored_tables.rows("enrolments")}
    assert {s for _, s in enrolments} == set(STUDENTS)

    # A claimed place cannot be claimed again: the impostor's claim goes to the teacher.
    await bot.send(IMPOSTOR, f"/join {code}")
    before = len(bot.request.calls)
    await bot.send(IMPOSTOR, number_of(2))
    told = bot.request.texts(IMPOSTOR)[-1]
    assert "I asked your teacher to confirm you" in told, told
    [question] = [c.text for c in bot.request.sent(TEACHER_ID)[-1:]]
    assert f"student number {number_of(2)}, whose place someone else has already" in question
    [(approve, _), (decline, decline_data)] = buttons(bot, before, TEACHER_ID)
    assert (approve, decline) == ("Approve", "Decline")
    assert IMPOSTOR not in {r["student_id"] for r in await stored_tables.rows("enrolments")}
    await bot.press(TEACHER_ID, decline_data)
    assert "Check your student number" in bot.request.texts(IMPOSTOR)[-1]
    assert IMPOSTOR not in {r["student_id"] for r in await stored_tables.rows("enrolments")}
    assert await stored_tables.rows("roster_claims") == []
    # A second tap on the decided request changes nothing.
    await bot.press(TEACHER_ID, decline_data)
    assert await stored_tables.rows("roster_claims") == []

    # A number that matches no place: approved, the student joins (no place taken).
    await bot.send(STRANGER, f"/join {code}")
    before = len(bot.request.calls)
    await bot.send(STRANGER, "99999999")
    assert "which is not on the imported roster" in bot.request.texts(TEACHER_ID)[-1]
    [(_, approve_data), _] = buttons(bot, before, TEACHER_ID)
    # Only the course's teacher may decide: the stranger pressing it gets nothing.
    await bot.press(STRANGER, approve_data)
    assert STRANGER not in {r["student_id"] for r in await stored_tables.rows("enrolments")}
    await bot.press(TEACHER_ID, approve_data)
    assert "you are in <b>Biology</b>" in bot.request.texts(STRANGER)[-1]
    assert STRANGER in {r["student_id"] for r in await stored_tables.rows("enrolments")}
    audit = sorted(await stored_tables.rows("course_audit"), key=lambda r: r["id"])
    assert [(r["action"], r["changed_by"]) for r in audit] == [
        ("roster_import", TEACHER_ID),
        ("roster_import", TEACHER_ID),
        *[("claim_place", s) for s in STUDENTS],
        ("decline_claim", TEACHER_ID),
        ("approve_claim", TEACHER_ID),
    ]
    assert audit[-1]["old_value"] == "99999999" and audit[-1]["new_value"] == str(STRANGER)

    # A session: the ten and the stranger may check in; 283 unclaimed places count absent.
    [card] = await bot.send(TEACHER_ID, "/start_session Biology 30")
    session_code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert session_code, card
    for student in STUDENTS[:6]:
        [reply] = await bot.send(student, f"/checkin {session_code[1]}")
        assert "Checked in" in reply, reply
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    attendance = await stored_tables.rows("attendance")
    assert len(attendance) == 294  # 10 claimed + 1 approved + 283 unclaimed
    assert sum(1 for r in attendance if r["status"] == "absent") == 288
    assert sum(1 for r in attendance if r["student_id"] < 0) == 283
    summary = bot.request.texts(TEACHER_ID)[-1]
    assert "Present 6 · Late 0 · Absent 288" in summary, summary
    assert "Ana Student009" in summary  # an unclaimed place, named as the registry names it

    # /report: everyone counted; who never claimed their place listed.
    table = (await bot.send(TEACHER_ID, "/report Biology"))[0]
    assert_valid_telegram_html(table)
    assert "294 students" in table, table
    assert "Never claimed their place (283)" in table, table
    assert name_of(12 + 1) in table or "more" in table

    # Grades count unclaimed places too (absent: 0), in the gradebook CSV as in the table.
    [course] = [
        c for c in await bot.services.courses.teacher_courses(TEACHER_ID) if c.name == "Biology"
    ]
    report = await bot.services.reports.report_for(course)
    rows = list(csv.reader(io.StringIO(gradebook_csv(report, ["n", "name", "g"]).decode())))
    grades = {number: grade for number, _, grade in rows[1:]}
    assert len(grades) == 294
    assert grades[number_of(13)] == "0.0" and grades[number_of(2)] == "100.0"

    # A claim after the session: the place's absence becomes the student's own record.
    late_student = 61_020
    await bot.send(late_student, f"/join {code}")
    await bot.send(late_student, number_of(20))
    mine = [r for r in await stored_tables.rows("attendance") if r["student_id"] == late_student]
    assert [r["status"] for r in mine] == ["absent"]


async def test_many_rejected_lines_come_as_a_file_and_bad_files_are_refused(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await new_course(bot, "Physics")
    rows = [f"{'=1+1' if n % 2 else n},Name {n}" for n in range(100, 200)]
    content = "\n".join(rows).encode()
    before = len(bot.request.calls)
    # One course: still asked (a roster in the wrong course is costly), with one button.
    assert await bot.send_document(TEACHER_ID, content, "roster.csv") == [
        "Which course is this roster for?"
    ]
    [(_, data)] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, data)
    report = bot.request.texts(TEACHER_ID)[-1]
    assert "New places: 50" in report and "Lines rejected: 50" in report, report
    assert "more: every rejected line is in the attached file" in report
    [(name, attached)] = bot.request.files(TEACHER_ID)
    assert name == "rejected-lines.csv"
    lines = attached.decode("utf-8-sig").splitlines()
    assert len(lines) == 51 and lines[1].startswith("2,line 2: a cell starts with")
    # A second press on the same file's button: the file is no longer waiting.
    await bot.press(TEACHER_ID, data)
    assert "no longer waiting" in bot.request.texts(TEACHER_ID)[-1] or any(
        "no longer waiting" in c.text for c in bot.request.calls if c.method == "editMessageText"
    )

    # Over 20 MB: refused before any download; a picture is not a roster; a student's file.
    [big] = await bot.send_document(TEACHER_ID, b"1,A\n" * (5_300_000), "huge.csv")
    assert "over 20 MB" in big, big
    [kind] = await bot.send_document(TEACHER_ID, b"\x89PNG", "photo.png")
    assert "as a CSV or XLSX file" in kind
    [hint] = await bot.send_document(70_001, b"1,A\n", "roster.csv")
    assert "I only read files from teachers" in hint
    assert len(await stored_tables.rows("roster_places")) == 50


async def test_forgetme_releases_the_place(bot: BotHarness, stored_tables: StoredTables) -> None:
    code = await new_course(bot, "History")
    before = len(bot.request.calls)
    await bot.send_document(TEACHER_ID, b"No;Name\n1001;Ada Lovelace\n1002;Alan Turing\n", "r.csv")
    [(_, data)] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, data)
    assert "New places: 2" in bot.request.texts(TEACHER_ID)[-1]
    await bot.send(62_001, f"/join {code}")
    [welcome] = await bot.send(62_001, "1001")
    assert "Ada Lovelace" in welcome
    [mydata] = await bot.send(62_001, "/mydata")
    assert "Roster place in <b>History</b>: Ada Lovelace, student number 1001" in mydata, mydata
    await bot.send(62_001, "/forgetme")
    await bot.press(62_001, "fg:yes")
    [place] = [
        p for p in await stored_tables.rows("roster_places") if p["student_number"] == "1001"
    ]
    assert place["claimed_by"] is None and place["stand_in"] < 0
    # Released: someone can claim it again (the forgotten account has no link to it).
    await bot.send(62_002, f"/join {code}")
    [welcome] = await bot.send(62_002, "1001")
    assert "Ada Lovelace" in welcome


async def test_a_place_claimed_during_its_session_is_recorded_once(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    code = await new_course(bot, "Art")
    before = len(bot.request.calls)
    await bot.send_document(TEACHER_ID, b"1001,Ada Lovelace\n1002,Alan Turing\n", "r.csv")
    [(_, data)] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, data)
    [card] = await bot.send(TEACHER_ID, "/start_session Art 30")
    assert "0 / 2" in card, card
    session_code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert session_code, card
    await bot.send(63_001, f"/join {code}")
    await bot.send(63_001, "1001")  # claimed while the session is live
    [reply] = await bot.send(63_001, f"/checkin {session_code[1]}")
    assert "Checked in" in reply, reply
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    rows = {r["student_id"]: r["status"] for r in await stored_tables.rows("attendance")}
    assert len(rows) == 2 and rows[63_001] == "present", rows
    [(stand_in, status)] = [(s, v) for s, v in rows.items() if s != 63_001]
    assert stand_in < 0 and status == "absent"


async def test_students_who_joined_before_the_import_keep_one_seat(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    code = await new_course(bot, "Music")
    replies = await bot.send(64_001, f"/join {code}")  # no roster yet: enrolled at once
    assert "enrolled in" in replies[0], replies
    await bot.send(64_001, "Ann Early s-77")
    before = len(bot.request.calls)
    await bot.send_document(TEACHER_ID, b"S-77,Ann Registry\n1002,Bob Registry\n", "r.csv")
    [(_, data)] = buttons(bot, before, TEACHER_ID)
    await bot.press(TEACHER_ID, data)
    report = bot.request.texts(TEACHER_ID)[-1]
    assert "New places: 2" in report and "number they registered: 1" in report, report
    [listing] = await bot.send(TEACHER_ID, "/courses")
    assert "2 students" in listing, listing  # Ann (her place) and Bob's unclaimed place
    [place] = [p for p in await stored_tables.rows("roster_places") if p["claimed_by"]]
    assert (place["student_number"], place["claimed_by"]) == ("S-77", 64_001)
    # A place imported by mistake: /remove_student takes it off by its number (no one told).
    [removed] = await bot.send(TEACHER_ID, "/remove_student Music 1002")
    assert "Bob Registry is no longer in <b>Music</b>" in removed, removed
    assert [p["student_number"] for p in await stored_tables.rows("roster_places")] == ["S-77"]
    [listing] = await bot.send(TEACHER_ID, "/courses")
    assert "1 student" in listing, listing
    audit = sorted(await stored_tables.rows("course_audit"), key=lambda r: r["id"])
    assert (audit[-1]["action"], audit[-1]["old_value"]) == ("remove_student", "1002")
