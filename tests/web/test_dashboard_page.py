"""The teacher dashboard in a real headless Chromium, opened as Telegram opens it (a stand-in
for `window.Telegram.WebApp` with initData signed by the test): a teacher filters a 300 × 40
course, corrects a cell (the change shows on the student's page), approves an excuse, imports
a roster file and downloads the XLSX the page's link carries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from bot.container import Services
from bot.web.dashboard import PAGE_PATH
from services.clock import ManualClock
from services.models import AttendanceStatus
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.dashboard import SeededCourse, seed_course, status_of
from tests.support.miniapp import init_data_for, open_miniapp, webapp_double
from tests.support.web_server import reserve_port, running_web_server
from tests.web.conftest import new_browser
from tests.web.test_miniapp_page import Page

STUDENTS = 300
SESSIONS = 40


class Dashboard(Page):
    async def open_as(self, user_id: int, now: Any, **double: Any) -> None:
        script = webapp_double(init_data_for(user_id, now), **double)
        await self.run(lambda: open_miniapp(self.driver, f"{self.url}{PAGE_PATH}", script))
        await self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready"))

    async def count(self, selector: str) -> int:
        return len(await self.run(lambda: self.driver.find_elements(By.CSS_SELECTOR, selector)))

    async def css(self, selector: str) -> Any:
        return await self.run(lambda: self.driver.find_element(By.CSS_SELECTOR, selector))

    async def click_css(self, selector: str) -> None:
        element = await self.css(selector)
        await self.run(element.click)

    async def rows(self) -> int:
        return await self.count("#table tbody tr")


@pytest.fixture
async def served(services: Services, clock: ManualClock) -> AsyncIterator[tuple[str, Services]]:
    sock, url = reserve_port()
    async with (
        BotHarness(make_settings(public_url=url), services) as bot,
        running_web_server(bot.app, sock=sock) as url,
    ):
        yield url, bot.services


async def _browser(width: int, height: int, dark: bool = False) -> webdriver.Chrome:
    return await asyncio.to_thread(new_browser, width, height, dark=dark)


async def test_a_teacher_filters_corrects_excuses_imports_and_downloads(
    served: tuple[str, Services], clock: ManualClock, screenshots: Path, tmp_path: Path
) -> None:
    url, services = served
    seeded: SeededCourse = await seed_course(
        services, TEACHER_ID, "Chemistry", students=STUDENTS, sessions=SESSIONS
    )
    # Student 1 was late in the first session: they ask to be excused.
    assert status_of(1, 0) == AttendanceStatus.LATE
    await services.excuses.submit(seeded.students[1], seeded.sessions[0], "Doctor", None)
    driver = await _browser(1280, 900)
    page = Dashboard(driver, url)
    try:
        await page.open_as(TEACHER_ID, clock.now())
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#courses button"))
        assert "owner" in await page.text("courses")
        await page.click_css("#courses button")
        await page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#table tbody tr")) == 300)
        assert await page.count("#table tbody button.cell") == STUDENTS * SESSIONS
        await page.screenshot(screenshots / "dashboard-table.png")

        # Filter by number: N0001x are ten students; by name: one.
        field = await page.css("#filter")
        await page.run(lambda: field.send_keys("N0001"))
        assert await page.rows() == 10
        await page.run(field.clear)
        await page.run(lambda: field.send_keys("student012"))
        assert await page.rows() == 1
        # The status filter keeps students with that status somewhere (all of them here).
        select = Select(await page.css("#status-filter"))
        await page.run(lambda: select.select_by_value("E"))
        assert await page.rows() == 1
        first = await page.css("#table tbody tr button.cell")
        label = await page.run(lambda: first.get_attribute("aria-label"))
        assert label == "Student012 Test, Lecture 1: Present"
        assert await page.run(lambda: first.text) == "P"  # a letter, not a colour alone

        # Correct the cell: the sheet, then the letter, then the student's page.
        await page.run(first.click)
        await page.wait(lambda d: d.find_element(By.ID, "sheet").get_attribute("open") is not None)
        await page.screenshot(screenshots / "dashboard-sheet.png")
        await page.click_css("#sheet-statuses input[value='absent']")
        await page.click("sheet-save")
        await page.wait(
            lambda d: d.find_element(By.CSS_SELECTOR, "#table tbody tr button.cell").text == "A"
        )
        await page.click_css("#table tbody tr th.name button")
        await page.wait(lambda d: d.find_element(By.ID, "student-view").is_displayed())
        records = await page.text("records")
        assert "Lecture 1" in records and "Present → Absent" in records
        await page.screenshot(screenshots / "dashboard-student.png")
        await page.click("to-course")

        # Approve the excuse in the queue: the record becomes excused (audited).
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-decide='approve']"))
        assert "Doctor" in await page.text("excuses")
        await page.click_css("[data-decide='approve']")
        await page.wait(lambda d: "No requests waiting." in d.find_element(By.ID, "excuses").text)
        page_of_one = await services.records.api_reads.student_records(
            seeded.course.id, student_id=seeded.students[1]
        )
        assert page_of_one[0].status == AttendanceStatus.EXCUSED
        assert page_of_one[0].corrections[-1].new_status == AttendanceStatus.EXCUSED

        # Import a roster file through the file input.
        roster = tmp_path / "roster.csv"
        roster.write_text("number,name\nS100,Grace Hopper\nS101,Alan Turing\n", encoding="utf-8")
        file_input = await page.css("#roster-file")
        await page.run(lambda: file_input.send_keys(str(roster)))
        await page.click("roster-import")
        await page.wait(
            lambda d: "New places added: 2" in d.find_element(By.ID, "roster-result").text
        )
        course = await services.records.courses.course(seeded.course.id)
        assert course is not None and course.roster_size == STUDENTS + 2

        # Download the XLSX the page's link carries; it opens as a workbook.
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        await page.run(
            lambda: driver.execute_cdp_cmd(
                "Browser.setDownloadBehavior",
                {"behavior": "allow", "downloadPath": str(downloads)},
            )
        )
        await page.click("export-xlsx")
        await page.wait(lambda d: list(downloads.glob("*.xlsx")), seconds=20)
        [saved] = list(downloads.glob("*.xlsx"))
        assert saved.name == f"attendance-report-{seeded.course.id}.xlsx"
        book = openpyxl.load_workbook(saved)
        names = {str(row[2].value) for row in book.worksheets[0].iter_rows(min_row=2)}
        assert {"Student012 Test", "Grace Hopper"} <= names
        await page.screenshot(screenshots / "dashboard-after.png")
    finally:
        await asyncio.to_thread(driver.quit)


async def test_on_a_phone_the_table_scrolls_with_the_names_in_view(
    served: tuple[str, Services], clock: ManualClock, screenshots: Path
) -> None:
    url, services = served
    await seed_course(services, TEACHER_ID, "Biology", students=12, sessions=10)
    driver = await _browser(320, 640, dark=True)
    page = Dashboard(driver, url)
    try:
        await page.open_as(TEACHER_ID, clock.now(), dark=True)
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#courses button"))
        await page.click_css("#courses button")
        await page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#table tbody tr")) == 12)
        wide = await page.script(
            "var w = document.getElementById('table-wrap');"
            "return [w.scrollWidth, w.clientWidth, document.documentElement.scrollWidth];"
        )
        assert wide[0] > wide[1] and wide[2] <= 320  # the table scrolls, not the page
        await page.script("document.getElementById('table-wrap').scrollLeft = 400")
        sticky = await page.script(
            "var n = document.querySelector('#table tbody th.name');"
            "return [getComputedStyle(n).position, n.getBoundingClientRect().left];"
        )
        assert sticky[0] == "sticky" and sticky[1] < 40  # still at the left edge
        await page.screenshot(screenshots / "dashboard-phone-dark.png")
    finally:
        await asyncio.to_thread(driver.quit)
