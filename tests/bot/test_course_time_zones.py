"""Per-course time zones: two courses, in Madrid and in Tashkent, started at the same instant.

The installation's zone is UTC; each course chose its own with /course_settings. Every time a
person reads (the card's end and late threshold, the check-in reply, the summary, the session
CSV, the report's XLSX and the chart's axis) is in the course's zone, with its offset.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.dates import date2num
from openpyxl import load_workbook

from bot.handlers import reports as report_handlers
from services.clock import ManualClock
from services.report_files import ReportLabels, report_figure
from services.reports import CourseReport
from tests.bot.test_courses import sweep_and_summarise
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

START = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)  # 09:00 in Madrid (CET), 13:00 in Tashkent
MADRID_STUDENT, TASHKENT_STUDENT = 30_001, 30_002


async def course_with_zone(bot: BotHarness, teacher: int, name: str, zone_arg: str) -> str:
    """Create the course and set its zone; the invite link."""
    [created] = await bot.send(teacher, f"/new_course {name}")
    link = re.search(r"start=(join_[A-Za-z0-9_-]+)", created)
    assert link, created
    [settings] = await bot.send(teacher, f"/course_settings {name} {zone_arg}")
    assert_valid_telegram_html(settings)
    return link[1]


async def enrol(bot: BotHarness, student: int, link: str, name: str) -> None:
    replies = await bot.send(student, f"/start {link}")
    assert "enrolled" in replies[0]
    await bot.send(student, name)


def sent_files(bot: BotHarness, since: int, chat_id: int) -> list[tuple[str, bytes]]:
    return [
        f
        for c in bot.request.calls[since:]
        if c.params.get("chat_id") in (chat_id, str(chat_id))
        for f in c.params.get("_files", {}).values()
    ]


async def test_two_courses_same_instant_each_in_its_own_zone(
    bot: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(START)
    madrid = await course_with_zone(bot, TEACHER_ID, "Madrid Lab", "tz=Europe/Madrid")
    # The parser's own form too, and any letter case.
    tashkent = await course_with_zone(bot, ADMIN_ID, "Tashkent Lab", "tz asia/tashkent")
    [shown] = await bot.send(TEACHER_ID, "/course_settings Madrid Lab")
    assert "Europe/Madrid, UTC+01:00" in shown
    [shown] = await bot.send(ADMIN_ID, "/course_settings Tashkent Lab")
    assert "Asia/Tashkent, UTC+05:00" in shown

    # A zone the database does not know: a short reply, and nothing changes (not even `late`).
    [refused] = await bot.send(TEACHER_ID, "/course_settings Madrid Lab late 20 tz=Mars/Olympus")
    assert "time zone" in refused and "nothing was changed" in refused
    course = (await bot.services.courses.teacher_courses(TEACHER_ID))[0]
    assert (course.time_zone, course.late_after_minutes) == ("Europe/Madrid", 10)

    await enrol(bot, MADRID_STUDENT, madrid, "Ana Ruiz")
    await enrol(bot, TASHKENT_STUDENT, tashkent, "Timur Karimov")

    # Both sessions start at 08:00 UTC and run 60 minutes; late from 10 minutes in.
    [madrid_card] = await bot.send(TEACHER_ID, "/start_session Madrid Lab 60")
    [tashkent_card] = await bot.send(ADMIN_ID, "/start_session Tashkent Lab 60")
    assert "until 10:00 CET" in madrid_card and "Late from 09:10 CET" in madrid_card
    assert "until 14:00 +05" in tashkent_card and "Late from 13:10 +05" in tashkent_card
    # A course's session is named after its own day and keeps the zone while live.
    live = await bot.services.sessions.open_session(ADMIN_ID)
    assert live is not None and live.time_zone == "Asia/Tashkent"
    madrid_code = re.search(r"<code>([A-Z0-9]{6})</code>", madrid_card)
    tashkent_code = re.search(r"<code>([A-Z0-9]{6})</code>", tashkent_card)
    assert madrid_code and tashkent_code

    clock.advance(minutes=12)  # past both late thresholds, at the same instant
    [ana] = await bot.send(MADRID_STUDENT, f"/checkin {madrid_code[1]}")
    [timur] = await bot.send(TASHKENT_STUDENT, f"/checkin {tashkent_code[1]}")
    assert "at 09:12 CET (late)" in ana, ana
    assert "at 13:12 +05 (late)" in timur, timur
    [again] = await bot.send(TASHKENT_STUDENT, f"/checkin {tashkent_code[1]}")
    assert "since 13:12 +05" in again

    await bot.send(TEACHER_ID, "/end_session")
    await bot.send(ADMIN_ID, "/end_session")
    clock.advance(minutes=1)
    before = len(bot.request.calls)
    await sweep_and_summarise(bot)

    def summary_for(chat_id: int) -> str:
        texts = [
            c.text
            for c in bot.request.calls[before:]
            if c.method == "sendMessage"
            and c.params.get("chat_id") in (chat_id, str(chat_id))
            and "Summary" in c.text
        ]
        assert len(texts) == 1, texts
        return texts[0]

    madrid_summary, tashkent_summary = summary_for(TEACHER_ID), summary_for(ADMIN_ID)
    assert "2026-01-15 09:00–09:12 CET" in madrid_summary, madrid_summary
    assert "09:12 Ana Ruiz" in madrid_summary
    assert "2026-01-15 13:00–13:12 +05" in tashkent_summary, tashkent_summary
    assert "13:12 Timur Karimov" in tashkent_summary
    # The session CSV sent with the summary: ISO times with the course's offset.
    for chat_id, student, iso in (
        (TEACHER_ID, MADRID_STUDENT, "2026-01-15T09:12:00+01:00"),
        (ADMIN_ID, TASHKENT_STUDENT, "2026-01-15T13:12:00+05:00"),
    ):
        [(_, data)] = sent_files(bot, before, chat_id)
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        [row] = [r for r in rows[1:] if r[3] == str(student)]
        assert iso in row, row

    # /report: the XLSX's session sheet and the chart's axis, each in its course's zone.
    charts: list[tuple[str, str]] = []

    def recording_chart(report: CourseReport, labels: ReportLabels, tz: tzinfo) -> bytes:
        figure = report_figure(report, labels, tz)
        [axes] = figure.axes
        started = float(date2num(report.sessions[0].started_at))  # type: ignore[no-untyped-call]
        tick = axes.xaxis.get_major_formatter()(started)
        charts.append((axes.get_xlabel(), tick))
        return b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(report_handlers, "report_chart", recording_chart)
    # XLSX cells have no zone: the local wall-clock time, the zone named in the header.
    madrid_start = START.astimezone(ZoneInfo("Europe/Madrid")).replace(tzinfo=None)
    tashkent_start = START.astimezone(ZoneInfo("Asia/Tashkent")).replace(tzinfo=None)
    expected: list[tuple[int, str, datetime, str]] = [
        (TEACHER_ID, "Europe/Madrid, UTC+01:00", madrid_start, "+01:00"),
        (ADMIN_ID, "Asia/Tashkent, UTC+05:00", tashkent_start, "+05:00"),
    ]
    assert (madrid_start.hour, tashkent_start.hour) == (9, 13)
    for teacher, zone, local_start, offset in expected:
        before = len(bot.request.calls)
        await bot.send(teacher, "/report")
        [(name, xlsx), _, _] = sent_files(bot, before, teacher)
        assert name.endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(xlsx))["Sessions"]
        header: list[Any] = [cell.value for cell in sheet[1]]
        assert header[2] == f"started_at ({zone})"
        [row] = list(sheet.iter_rows(min_row=2, values_only=True))
        assert row[2] == local_start and row[3] == offset
        x_label, tick = charts[-1]
        assert x_label == f"session start ({zone})"
        assert tick == f"{local_start:%Y-%m-%d %H:%M}"


async def test_default_zone_and_reset(bot: BotHarness) -> None:
    """A course that never chose a zone follows the installation's; `tz=default` returns to it."""
    await course_with_zone(bot, TEACHER_ID, "Physics", "tz=Asia/Tashkent")
    [reset] = await bot.send(TEACHER_ID, "/course_settings Physics tz=default")
    assert "UTC, UTC+00:00" in reset
    course = (await bot.services.courses.teacher_courses(TEACHER_ID))[0]
    assert course.time_zone is None
    [card] = await bot.send(TEACHER_ID, "/start_session Physics 30")
    assert re.search(r"until \d\d:\d\d\)", card), card  # no abbreviation: as before
