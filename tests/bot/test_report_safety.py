"""/report end to end with hostile names: a Telegram first name `=HYPERLINK("x")` stays text
in the XLSX, session times carry the configured zone, and a course named `$x^$` gets its
chart."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook

from bot.container import Services
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness

STUDENT = 71_001
FORMULA = '=HYPERLINK("x")'


@pytest.fixture
async def berlin_bot(services: Services) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_settings(timezone="Europe/Berlin"), services) as harness:
        yield harness


async def test_report_files_are_safe_and_in_the_configured_zone(
    berlin_bot: BotHarness, clock: ManualClock
) -> None:
    bot = berlin_bot
    [created] = await bot.send(TEACHER_ID, "/new_course $x^$")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join, created
    await bot.send(STUDENT, f"/join {join[1]}", first_name=FORMULA)
    [card] = await bot.send(TEACHER_ID, "/start_session $x^$ 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    await bot.send(STUDENT, f"/checkin {code[1]}", first_name=FORMULA)
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    session = await bot.services.records.sessions.latest_session(TEACHER_ID)
    assert session is not None

    before = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/report $x^$")
    calls = bot.request.calls[before:]
    files = [f for c in calls for f in c.params.get("_files", {}).values()]
    [(xlsx_name, xlsx), (_, gradebook), (_, png)] = files
    [_, (_, name, _)] = list(csv.reader(io.StringIO(gradebook.decode("utf-8"))))
    assert name == "'" + FORMULA  # never a formula in the gradebook either
    assert xlsx_name.endswith(".xlsx") and png.startswith(b"\x89PNG\r\n\x1a\n")
    book = load_workbook(io.BytesIO(xlsx))
    [row] = list(book["Students"].iter_rows(min_row=2))
    assert row[2].value == "'" + FORMULA and row[2].data_type == "s"
    sessions = book["Sessions"]
    assert "Europe/Berlin" in str(sessions.cell(row=1, column=3).value)
    local = session.started_at.astimezone(bot.services_tz)
    assert sessions.cell(row=2, column=3).value == local.replace(tzinfo=None, microsecond=0)
    assert sessions.cell(row=2, column=4).value == local.strftime("%z")[:3] + ":00"


async def test_a_name_with_a_control_character_still_gets_the_xlsx(
    berlin_bot: BotHarness, clock: ManualClock
) -> None:
    """A first name carrying \x0b or an escape sequence: openpyxl refuses such characters,
    and the whole course's XLSX (here /report's, on the dashboard its download) failed."""
    bot = berlin_bot
    [created] = await bot.send(TEACHER_ID, "/new_course Optics")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join, created
    await bot.send(STUDENT, f"/join {join[1]}", first_name="Ana\x0bMaria\x1b[31m")
    [card] = await bot.send(TEACHER_ID, "/start_session Optics 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    await bot.send(STUDENT, f"/checkin {code[1]}", first_name="Ana\x0bMaria\x1b[31m")
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    before = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/report Optics")
    files = [f for c in bot.request.calls[before:] for f in c.params.get("_files", {}).values()]
    [xlsx] = [content for name, content in files if name.endswith(".xlsx")]
    [row] = list(load_workbook(io.BytesIO(xlsx))["Students"].iter_rows(min_row=2))
    assert row[2].value == "AnaMaria[31m"
