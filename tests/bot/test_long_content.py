"""Large classes against a Telegram that says no: every message stays within its limits.

The bot's calls are answered by the strict fake Bot API (tests/fakes/botapi/),
which refuses a text longer than 4,096 characters after entity parsing, as Telegram does.
"""

from __future__ import annotations

import csv
import io
import re
import string
from collections import Counter

from bot.notifier import TelegramNotifier
from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall

STUDENTS = list(range(30_001, 30_301))
PRESENT, LATE, ABSENT = STUDENTS[:100], STUDENTS[100:200], STUDENTS[200:]
AT_RISK = ABSENT[:40]  # absent from every session: 0 of 3


def long_name(student: int) -> str:
    """A 60-character name, unique per student (letters only, as names must be)."""
    i = student - STUDENTS[0]
    tag = "".join(string.ascii_uppercase[(i // 26**k) % 26] for k in range(3))
    name = f"Alexandrina Maximiliana {tag.capitalize()} Featherstonehaugh-Wolfeschlegel"
    return name.ljust(60, "e")


async def enrol(bot: BotHarness, link: str, student: int) -> None:
    await bot.send(student, f"/start {link}")
    await bot.send(student, long_name(student))


async def start(bot: BotHarness) -> str:
    [card] = await bot.send(TEACHER_ID, "/start_session Big Lecture 90")
    match = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert match, card
    return match[1]


def summary_calls(bot: BotHarness) -> list[ApiCall]:
    return [
        c
        for c in bot.request.calls
        if c.method == "sendMessage" and c.params["chat_id"] == TEACHER_ID and "Summary:" in c.text
    ]


def shown_and_omitted(plain: str, label: str) -> tuple[int, int]:
    """How many names a "Label: a, b … and N more" line shows, and the N it states."""
    line = next(x for x in plain.split("\n") if x.startswith(label))
    omitted = re.search(r"… and (\d+) more", line)
    names = line.removeprefix(label).split(" … and ")[0]
    return len(names.split(", ")), int(omitted[1]) if omitted else 0


async def test_a_300_student_summary_fits_and_its_csv_lists_everyone(
    bot: BotHarness, clock: ManualClock
) -> None:
    [created] = await bot.send(TEACHER_ID, "/new_course Big Lecture")
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", created)
    assert link, created
    await bot.send(TEACHER_ID, "/course_settings Big Lecture late 5 warn 60")
    for student in STUDENTS:
        await enrol(bot, link[1], student)
    notifier = TelegramNotifier(bot.app.bot, bot.services_tz)

    # Two earlier sessions that only the 40 at-risk students miss (2 of 3 is still 67%).
    for _ in range(2):
        code = await start(bot)
        for student in STUDENTS:
            if student not in AT_RISK:
                await bot.send(student, f"/checkin {code}")
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await bot.services.sweeper.sweep_attendances()
        await bot.services.sweeper.deliver_summaries(notifier)
        clock.advance(days=1)

    code = await start(bot)
    for student in PRESENT:
        await bot.send(student, f"/checkin {code}")
    clock.advance(minutes=6)
    for student in LATE:
        await bot.send(student, f"/checkin {code}")
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(notifier)

    summary = summary_calls(bot)[-1]
    assert summary.status == 200, summary.error  # the strict fake took it: ≤ 4,096
    plain = next(
        m["text"]
        for m in reversed(bot.request.api.chat_messages(TEACHER_ID))
        if "text" in m and m["text"].startswith("Summary: Big Lecture")
    )
    assert len(plain.encode("utf-16-le")) // 2 <= 4096
    assert "Checked in: 200" in plain and "Late 100 · Absent 100" in plain
    for label, total in (("Late: ", 100), ("Absent: ", 100)):
        shown, omitted = shown_and_omitted(plain, label)
        assert omitted > 0 and shown + omitted == total, (label, shown, omitted)
        assert "(see the CSV)" in plain
    shown, omitted = shown_and_omitted(plain, "At risk (below the course threshold): ")
    assert shown + omitted == 40 and omitted > 0
    risk_line = next(x for x in plain.split("\n") if x.startswith("At risk"))
    risky = set(re.findall(r"(Alexandrina [A-Za-z -]+?) \(0%\)", risk_line))
    assert len(risky) == shown and risky <= {long_name(s) for s in AT_RISK}
    attended = re.search(r"… and (\d+) more \(all in the CSV file\)\.", plain)
    listed = len(re.findall(r"^\d\d:\d\d Alexandrina", plain, re.MULTILINE))
    assert attended and listed + int(attended[1]) == 200

    # The CSV after it lists all 300, with their statuses.
    document = next(
        c
        for c in reversed(bot.request.calls)
        if c.method == "sendDocument" and c.params["chat_id"] == TEACHER_ID
    )
    assert document.status == 200
    [(filename, content)] = document.params["_files"].values()
    assert filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert len(rows) == 300
    names = {row[key] for row in rows for key in row if key and "name" in key.lower()}
    assert {long_name(s) for s in STUDENTS} <= names
    statuses = Counter(row["status"] for row in rows)
    assert statuses == Counter({"present": 100, "late": 100, "absent": 100})


def last_text_to(bot: BotHarness, chat_id: int) -> str:
    """The last message the fake holds for `chat_id`, as Telegram shows it (parsed)."""
    [*_, last] = [m for m in bot.request.api.chat_messages(chat_id) if "text" in m]
    return str(last["text"])


async def test_every_list_a_teacher_or_student_asks_for_fits(bot: BotHarness) -> None:
    """Who is missing, the check-in list, /report, /courses and /history with 300 long
    names or 60 courses: each answer is accepted and says how many it leaves out."""
    [created] = await bot.send(TEACHER_ID, "/new_course Big Lecture")
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", created)
    assert link, created
    for student in STUDENTS:
        await enrol(bot, link[1], student)
    code = await start(bot)
    for student in STUDENTS[:150]:
        await bot.send(student, f"/checkin {code}")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None

    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, f"cd:miss:{session.id}")
    missing = last_text_to(bot, TEACHER_ID)
    assert missing.startswith("Not checked in yet (150)")
    shown = missing.count("\n• ")
    assert 0 < shown < 150 and f"… and {150 - shown} more" in missing
    await bot.press(TEACHER_ID, f"cd:list:{session.id}")
    present = last_text_to(bot, TEACHER_ID)
    shown = len(re.findall(r"^\d\d:\d\d ", present, re.MULTILINE))
    assert present.startswith("Checked in (150)") and f"… and {150 - shown} more" in present
    await bot.send(TEACHER_ID, "/end_session")
    await bot.send(TEACHER_ID, "/report Big Lecture")
    report = next(
        m["text"]
        for m in reversed(bot.request.api.chat_messages(TEACHER_ID))
        if str(m.get("text", "")).startswith("Report: Big Lecture")
    )
    assert "300 students" in report and "Page 1 of 12" in report

    student = STUDENTS[0]
    for n in range(60):
        tag = string.ascii_uppercase[n // 26] + string.ascii_lowercase[n % 26]
        [made] = await bot.send(
            TEACHER_ID, f"/new_course Course number {tag} with a rather long descriptive name"
        )
        join = re.search(r"/join ([A-Z0-9]{8})", made)
        assert join, made
        await bot.send(student, f"/join {join[1]}")
    await bot.send(student, "/history")
    history = last_text_to(bot, student)
    shown = history.count("\n") - 1  # one line per course, then "… and N more courses"
    assert history.startswith("Your attendance") and f"… and {61 - shown} more" in history
    await bot.send(TEACHER_ID, "/courses")
    courses = last_text_to(bot, TEACHER_ID)
    shown = courses.count("code ")
    assert courses.startswith("Your courses") and f"… and {61 - shown} more" in courses
    await bot.send(TEACHER_ID, "/report")
    which = last_text_to(bot, TEACHER_ID)
    markup = bot.request.calls[-1].params["reply_markup"]
    labels = [b["text"] for row in markup["inline_keyboard"] for b in row]
    assert which.startswith("Which course?") and "Next ▶" in labels
    refused = [c for c in bot.request.calls[before:] if c.status != 200]
    assert refused == [], [(c.method, c.error) for c in refused]


async def test_button_alerts_show_plain_text_that_fits(bot: BotHarness, clock: ManualClock) -> None:
    """A button's answer has no parse mode: Telegram shows it as is. A teacher whose open
    session has an 80-character title with "&" and "<" in it presses a course button of a
    second /start_session (the "already open" alert) and "+5 min" on the card: both alerts
    read the title as typed, without tags or escaped entities, within 200 characters."""
    title = "Q&A <1> " + "discussion " * 6 + "about <tags> & things"
    title = title[:80]
    await bot.send(TEACHER_ID, "/new_course Chem")
    await bot.send(TEACHER_ID, "/new_course Bio")
    await bot.send(TEACHER_ID, f"/start_session Chem 30 {title}")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.title == title.strip()
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/start_session 20 Again")
    [question] = [c for c in bot.request.calls[since:] if c.method == "sendMessage"]
    markup = question.params["reply_markup"]["inline_keyboard"]
    since = len(bot.request.calls)
    await bot.press(TEACHER_ID, markup[0][0]["callback_data"])
    await bot.press(TEACHER_ID, f"cd:ext:{session.id}")
    answers = [c for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]
    assert [c.status for c in answers] == [200, 200]
    already, extended = (str(c.params["text"]) for c in answers)
    assert already.startswith(f"You already have an open session: {session.title} (code ")
    assert extended.startswith(f"{session.title} now runs until ")
    for alert in (already, extended):
        assert len(alert.encode("utf-16-le")) // 2 <= 200, alert
        assert "<b>" not in alert and "<code>" not in alert and "&amp;" not in alert, alert
