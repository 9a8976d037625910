"""The teacher dashboard in a real headless Chromium, opened as Telegram opens it (a stand-in
for `window.Telegram.WebApp` with initData signed by the test): a teacher filters a 300 × 40
course, corrects a cell (the change shows on the student's page), approves an excuse, imports
a roster file and downloads the XLSX the page's link carries; decides a student's roster claim
made in the chat; changes the timetable (and is told, in its words, what input it refused)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import time
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
from services.models import AttendanceStatus, UserProfile
from services.timetable_slots import SlotRule
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
    async def open_as(self, user_id: int, now: Any, language: str = "en", **double: Any) -> None:
        script = webapp_double(init_data_for(user_id, now, language_code=language), **double)
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
async def served_bot(services: Services) -> AsyncIterator[tuple[str, BotHarness]]:
    """The page's server and the bot behind it (students use the chat)."""
    sock, url = reserve_port()
    async with (
        BotHarness(make_settings(public_url=url), services) as bot,
        running_web_server(bot.app, sock=sock) as url,
    ):
        yield url, bot


@pytest.fixture
def served(served_bot: tuple[str, BotHarness]) -> tuple[str, Services]:
    url, bot = served_bot
    return url, bot.services


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


async def _open_course(page: Dashboard, course_name: str) -> None:
    await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#courses button"))
    button = await page.run(
        lambda: page.driver.find_element(
            By.XPATH, f"//ul[@id='courses']//button[contains(., '{course_name}')]"
        )
    )
    await page.run(button.click)
    await page.wait(lambda d: d.find_element(By.ID, "course-view").is_displayed())


async def test_a_claim_made_in_the_chat_is_approved_on_the_page(
    served_bot: tuple[str, BotHarness], clock: ManualClock, screenshots: Path
) -> None:
    url, bot = served_bot
    services = bot.services
    seeded = await seed_course(services, TEACHER_ID, "Physics", students=2, sessions=2)
    course_id = seeded.course.id
    await services.roster.import_roster(TEACHER_ID, course_id, b"S100,Grace Hopper\n", "r.csv")
    # A student joins in the chat and gives a number the registry's file did not have.
    assert seeded.course.join_code
    [ask] = await bot.send(5006, f"/join {seeded.course.join_code}")
    assert "number" in ask.lower()  # the course has an imported roster: it asks for one
    await bot.send(5006, "s200")
    [waiting] = await services.roster.waiting_claims(TEACHER_ID, course_id)
    assert waiting[0].student_number == "S200"
    # The registry's corrected file has the place; the teacher imports it, then approves.
    await services.roster.import_roster(
        TEACHER_ID, course_id, b"S100,Grace Hopper\nS200,Ada Lovelace\n", "r.csv"
    )
    # Another student's claim, decided in the chat while the page shows it.
    other = await services.roster.claim(UserProfile(5008, "Eve"), course_id, "S999")
    assert other.request is not None
    driver = await _browser(1280, 900)
    page = Dashboard(driver, url)
    try:
        await page.open_as(TEACHER_ID, clock.now())
        await _open_course(page, "Physics")
        await page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#claims li")) == 2)
        listed = await page.text("claims")
        assert "Student number given: S200" in listed and "User5006" in listed
        await page.screenshot(screenshots / "dashboard-claims.png")
        await services.roster.decide(TEACHER_ID, other.request.id, approve=False)
        await page.click_css(
            f"#claims li[data-request='{other.request.id}'] [data-decide='approve']"
        )
        await page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#claims li")) == 1)
        assert await page.text("status") == (
            "That is no longer there, or was already decided: the list is up to date."
        )
        await page.click_css("#claims [data-decide='approve']")
        await page.wait(lambda d: "No claims waiting." in d.find_element(By.ID, "claims").text)
        # The roster: the student holds the place (its stand-in row is gone).
        await page.wait(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#table tbody tr[data-student='5006']")
        )
        row = await page.css("#table tbody tr[data-student='5006']")
        assert "S200" in await page.run(lambda: row.text)
        assert await page.count("#table tbody tr") == 2 + 2  # two seeded, Grace's place, Ada
        places = {p.student_number: p for p in await services.roster.unclaimed(course_id)}
        assert set(places) == {"S100"}
    finally:
        await asyncio.to_thread(driver.quit)


async def test_the_timetable_is_changed_on_the_page(
    served: tuple[str, Services], clock: ManualClock, screenshots: Path, tmp_path: Path
) -> None:
    url, services = served
    seeded = await seed_course(services, TEACHER_ID, "Geology", students=1, sessions=1)
    driver = await _browser(1280, 900)
    page = Dashboard(driver, url)
    try:
        await page.open_as(TEACHER_ID, clock.now())
        await _open_course(page, "Geology")
        await page.wait(lambda d: "No weekly classes yet." in d.find_element(By.ID, "slots").text)
        await page.run(lambda: Select(driver.find_element(By.ID, "slot-day")).select_by_value("2"))
        await page.script("document.getElementById('slot-start').value = '14:30'")
        minutes = await page.css("#slot-minutes")
        await page.run(minutes.clear)
        await page.run(lambda: minutes.send_keys("60"))
        await page.click("slot-add")
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#slots [data-slot='2 14:30']"))
        assert "Wednesday 14:30" in await page.text("slots")
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#timetable li"))

        # Bad input: the service's own message, and nothing saved.
        await page.run(minutes.clear)
        await page.run(lambda: minutes.send_keys("500"))
        await page.click("slot-add")
        await page.wait(lambda d: "from 5 to 240" in d.find_element(By.ID, "tt-result").text)
        await page.script("document.getElementById('term-last').value = '2020-01-01'")
        await page.click("term-save")
        await page.wait(
            lambda d: (
                d.find_element(By.ID, "tt-result").text == "The term would end before it starts."
            )
        )
        _, stored = await services.timetables.course_timetable(TEACHER_ID, seeded.course.id)
        assert [(r.weekday, r.minutes) for r in stored.rules] == [(2, 60)]
        assert stored.last_day.year > 2020

        # Skip a day, then remove the class.
        await page.script(f"document.getElementById('holiday-day').value = '{stored.first_day}'")
        await page.click("holiday-add")
        await page.wait(
            lambda d: d.find_elements(
                By.CSS_SELECTOR, f"#holidays [data-holiday='{stored.first_day}']"
            )
        )
        await page.screenshot(screenshots / "dashboard-timetable.png")
        await page.click_css("#slots [data-slot='2 14:30'] button")
        await page.wait(lambda d: "No weekly classes yet." in d.find_element(By.ID, "slots").text)
        _, stored = await services.timetables.course_timetable(TEACHER_ID, seeded.course.id)
        assert stored.rules == () and stored.first_day in stored.holidays

        # Import a timetable file: the chat's report of it, line by line.
        timetable_csv = tmp_path / "timetable.csv"
        timetable_csv.write_text("slot,Fri,08:15,45\nslot,Fri,8h,45\n", encoding="utf-8")
        file_input = await page.css("#tt-file")
        await page.run(lambda: file_input.send_keys(str(timetable_csv)))
        await page.click("tt-import")
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#slots [data-slot='4 08:15']"))
        report = await page.text("tt-report")
        assert "imported 1 weekly class" in report and "Line 2:" in report
    finally:
        await asyncio.to_thread(driver.quit)


async def test_in_persian_on_a_phone_the_new_sections_read_right_to_left(
    served_bot: tuple[str, BotHarness], clock: ManualClock, screenshots: Path
) -> None:
    url, bot = served_bot
    services = bot.services
    seeded = await seed_course(services, TEACHER_ID, "Fizik", students=3, sessions=3)
    course_id = seeded.course.id
    await services.roster.import_roster(TEACHER_ID, course_id, b"S100,Grace\n", "r.csv")
    await services.roster.claim(UserProfile(5007, "Ali"), course_id, "S300")
    rule = SlotRule(0, time(10, 0), 90)
    await services.timetables.add_slot(TEACHER_ID, course_id, rule)
    driver = await _browser(320, 640)
    page = Dashboard(driver, url)
    try:
        await page.open_as(TEACHER_ID, clock.now(), language="fa")
        assert await page.script("return document.documentElement.dir") == "rtl"
        await _open_course(page, "Fizik")
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#claims [data-decide]"))
        await page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#slots [data-slot]"))
        assert "S300" in await page.text("claims")
        assert await page.text("claims-title") == "درخواست‌های جا در فهرست"
        assert await page.text("timetable-title") == "برنامهٔ کلاس‌ها"
        # Nothing is wider than the phone: the page does not scroll sideways.
        widths = await page.script(
            "return [document.documentElement.scrollWidth,"
            " document.getElementById('timetable-box').getBoundingClientRect().right,"
            " document.getElementById('claims-box').getBoundingClientRect().right];"
        )
        wide = await page.script(
            "return Array.from(document.querySelectorAll('#course-view *'))"
            ".filter(function (n) { var r = n.getBoundingClientRect();"
            " return (r.width > 296 || r.left < 29) && r.width > 0 && !n.closest('#table-wrap'); })"
            ".map(function (n) { var r = n.getBoundingClientRect();"
            " return n.tagName + '#' + n.id + '.' + n.className + ' ' + r.left + '-' + r.right; });"
        )
        assert all(w <= 320 for w in widths), str(widths) + " ".join(wide)
        await page.script("document.getElementById('timetable-box').scrollIntoView()")
        await page.screenshot(screenshots / "dashboard-timetable-fa-320.png")
        await page.script("document.getElementById('claims-box').scrollIntoView()")
        await page.screenshot(screenshots / "dashboard-claims-fa-320.png")
    finally:
        await asyncio.to_thread(driver.quit)
