"""The Mini App in a real headless Chromium, opened as Telegram opens it: a stand-in for
`window.Telegram.WebApp` carries initData signed by the test with the bot token (telegram.org
is blocked). The student checks in, sees the confirmation and their history; with tampered,
expired or another bot's initData the page says so and nothing is recorded."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.container import Services
from services.clock import ManualClock
from tests.bot.test_location import HALL, NEARBY
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.miniapp import init_data_for, open_miniapp, tampered, webapp_double
from tests.support.web_server import reserve_port, running_web_server
from tests.web.conftest import new_browser

T = TypeVar("T")


class Page:
    """One browser on the Mini App; every Selenium call runs in a thread, so the server
    (in this test's event loop) keeps answering while the browser waits."""

    def __init__(self, driver: webdriver.Chrome, url: str) -> None:
        self.driver = driver
        self.url = url

    async def run(self, call: Callable[[], T]) -> T:
        return await asyncio.to_thread(call)

    async def open(self, init_data: str, **double: Any) -> None:
        script = webapp_double(init_data, **double)
        await self.run(lambda: open_miniapp(self.driver, f"{self.url}/miniapp", script))
        await self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready"))

    async def wait(self, condition: Callable[[webdriver.Chrome], Any], seconds: float = 10) -> Any:
        return await self.run(lambda: WebDriverWait(self.driver, seconds).until(condition))

    async def text(self, element_id: str) -> str:
        return await self.run(lambda: self.driver.find_element(By.ID, element_id).text)

    async def result(self) -> str:
        """The answer once the page is no longer busy."""
        await self.wait(
            lambda d: (
                (box := d.find_element(By.ID, "result")).text
                and "busy" not in (box.get_attribute("class") or "")
            )
        )
        return await self.text("result")

    async def script(self, source: str) -> Any:
        return await self.run(lambda: self.driver.execute_script(source))

    async def press_main_button(self) -> None:
        await self.script("window.Telegram.WebApp.MainButton.click()")

    async def log(self) -> list[list[str]]:
        log: list[list[str]] = await self.script("return window.__tgLog")
        return log

    async def click(self, element_id: str) -> None:
        await self.run(lambda: self.driver.find_element(By.ID, element_id).click())

    async def screenshot(self, path: Path) -> None:
        await self.run(lambda: self.driver.save_screenshot(str(path)))


class Classroom:
    def __init__(self, bot: BotHarness, url: str, clock: ManualClock) -> None:
        self.bot = bot
        self.url = url
        self.clock = clock

    def init_data(self, student: int, **kwargs: Any) -> str:
        return init_data_for(student, self.clock.now(), **kwargs)

    async def course_session(self, course: str, students: list[int], extra: str = "") -> str:
        """A course with `students` enrolled and its session open: the session id."""
        [created] = await self.bot.send(TEACHER_ID, f"/new_course {course}")
        join = re.search(r"/join ([A-Z0-9]{8})", created)
        assert join
        for student in students:
            await self.bot.send(student, f"/join {join[1]}")
        await self.bot.send(TEACHER_ID, f"/start_session {course} 60 {extra}".strip())
        session = await self.bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        return session.id

    async def session(self, session_id: str) -> tuple[str, set[int]]:
        """(current code, who checked in)."""
        session = await self.bot.services.live.sessions.session(session_id)
        assert session is not None
        present = await self.bot.services.live.checkins.checked_in(session_id)
        return session.code, set(present)


@pytest.fixture
async def classroom(services: Services, clock: ManualClock) -> AsyncIterator[Classroom]:
    sock, url = reserve_port()
    async with (
        BotHarness(make_settings(public_url=url), services) as bot,
        running_web_server(bot.app, sock=sock) as url,
    ):
        yield Classroom(bot, url, clock)


@pytest.fixture
async def phone() -> AsyncIterator[webdriver.Chrome]:
    """A phone-sized browser (320 px wide, the narrowest the page must work at)."""
    driver = await asyncio.to_thread(new_browser, 320, 640)
    try:
        yield driver
    finally:
        await asyncio.to_thread(driver.quit)


async def test_a_student_checks_in_and_sees_their_history(
    classroom: Classroom, phone: webdriver.Chrome, screenshots: Path
) -> None:
    session_id = await classroom.course_session("Algebra", [3001])
    code, _ = await classroom.session(session_id)
    page = Page(phone, classroom.url)
    # Opened from the QR's startapp link: the code is filled in, the main button checks in.
    await page.open(classroom.init_data(3001, start_param=f"ci_{session_id}-{code}"))
    assert await page.script("return document.getElementById('code').value") == code
    await page.screenshot(screenshots / "miniapp-light-320.png")
    await page.press_main_button()
    confirmation = await page.result()
    assert confirmation.startswith("✅ Checked in to Algebra "), confirmation
    assert ["haptic", "success"] in await page.log()
    await page.screenshot(screenshots / "miniapp-checked-in-320.png")
    assert (await classroom.session(session_id))[1] == {3001}

    # Pressed again (or the request replayed): already checked in, counted once.
    await page.script("document.getElementById('result').textContent = ''")
    await page.press_main_button()
    assert (await page.result()).startswith("You are already checked in to Algebra")
    assert (await classroom.session(session_id))[1] == {3001}

    await classroom.bot.send(TEACHER_ID, "/end_session")
    classroom.clock.advance(minutes=1)
    await classroom.bot.services.sweeper.sweep_attendances()
    await page.click("show-history")
    await page.wait(lambda d: "Algebra" in d.find_element(By.ID, "history").text)
    history = await page.text("history")
    assert "Algebra" in history and "100%" in history, history
    assert ["BackButton", "show"] in await page.log()
    await page.screenshot(screenshots / "miniapp-history-320.png")
    await page.click("back")
    assert await page.run(lambda: phone.find_element(By.ID, "checkin-view").is_displayed())


async def test_a_scanned_qr_checks_in_and_a_stranger_is_refused(
    classroom: Classroom, phone: webdriver.Chrome, screenshots: Path
) -> None:
    session_id = await classroom.course_session("Physics", [3101])
    code, _ = await classroom.session(session_id)
    link = f"https://t.me/attn_test_bot?startapp=ci_{session_id}-{code}"
    page = Page(phone, classroom.url)
    await page.open(classroom.init_data(3101, language_code="es"), scanned=link, dark=True)
    assert await page.text("scan") == "Escanear el código QR"
    await page.click("scan")
    answer = await page.result()
    assert answer.startswith("✅") and "Physics" in answer, answer
    await page.screenshot(screenshots / "miniapp-dark-es-320.png")

    stranger = Page(phone, classroom.url)
    await stranger.open(classroom.init_data(3102), scanned=link)
    await stranger.click("scan")
    refused = await stranger.result()
    assert "not enrolled in the course of Physics" in refused
    assert ["haptic", "error"] in await stranger.log()
    assert (await classroom.session(session_id))[1] == {3101}


async def test_the_page_reads_the_location_when_the_session_asks(
    classroom: Classroom, phone: webdriver.Chrome
) -> None:
    session_id = await classroom.course_session("Geology", [3201], "geo")
    await classroom.bot.send_location(TEACHER_ID, *HALL)
    code, _ = await classroom.session(session_id)
    page = Page(phone, classroom.url)
    await page.open(classroom.init_data(3201), location=NEARBY)
    await page.run(lambda: phone.find_element(By.ID, "code").send_keys(code))
    await page.press_main_button()
    answer = await page.result()
    assert answer.startswith("✅ Checked in to Geology"), answer
    assert ["location"] in await page.log()
    present = await classroom.bot.services.live.checkins.checked_in(session_id)
    assert set(present) == {3201} and present[3201].distance_m == 80


async def test_a_persian_page_reads_right_to_left(classroom: Classroom, screenshots: Path) -> None:
    driver = await asyncio.to_thread(new_browser, 320, 640, dark=True)
    try:
        page = Page(driver, classroom.url)
        await page.open(classroom.init_data(3301, language_code="fa"), dark=True)
        assert await page.script("return document.documentElement.dir") == "rtl"
        assert await page.text("title") == "ثبت حضور"
        label = await page.script("return document.querySelector('label[for=code]').textContent")
        assert label == "کدی که استاد نشان می‌دهد"
        width = await page.script("return document.documentElement.scrollWidth")
        assert width <= 320  # nothing wider than the phone
        await page.screenshot(screenshots / "miniapp-dark-fa-320.png")
    finally:
        await asyncio.to_thread(driver.quit)


@pytest.mark.parametrize("forgery", ["tampered", "expired", "another token"])
async def test_forged_init_data_is_refused_and_nothing_is_recorded(
    classroom: Classroom, phone: webdriver.Chrome, screenshots: Path, forgery: str
) -> None:
    student = 3401
    session_id = await classroom.course_session("Ethics", [student])
    code, _ = await classroom.session(session_id)
    now = classroom.clock.now()
    start = f"ci_{session_id}-{code}"
    init_data = {
        "tampered": tampered(init_data_for(3999, now, start_param=start), student),
        "expired": init_data_for(student, now - timedelta(hours=2), start_param=start),
        "another token": init_data_for(student, now, token="654321:ANOTHER-bot", start_param=start),
    }[forgery]
    page = Page(phone, classroom.url)
    await page.open(init_data)
    message = await page.result()
    expected = {
        "tampered": "could not confirm who you are",
        "expired": "opened too long ago",
        "another token": "could not confirm who you are",
    }[forgery]
    assert expected in message and "nothing was recorded" in message, message
    assert ["MainButton", "show"] not in await page.log()
    assert await page.script("return document.getElementById('code').disabled")
    await page.screenshot(screenshots / f"miniapp-refused-{forgery.replace(' ', '-')}-320.png")
    # Even sent by hand from the page, the check-in is refused by the server.
    status = await page.script(
        "return fetch('/api/miniapp/checkin', {method: 'POST', headers: {"
        "'Authorization': 'tma ' + window.Telegram.WebApp.initData,"
        "'Content-Type': 'application/json'}, body: JSON.stringify({code: "
        f"'{code}'}})}}).then(r => r.status)"
    )
    assert status == 401
    assert (await classroom.session(session_id))[1] == set()


async def test_outside_telegram_the_page_says_where_to_open_it(
    classroom: Classroom, phone: webdriver.Chrome
) -> None:
    """No Telegram (a browser given the address): no initData, nothing to act for."""
    page = Page(phone, classroom.url)

    def open_bare() -> None:
        phone.execute_cdp_cmd("Network.enable", {})
        phone.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*telegram.org*"]})
        phone.get(f"{classroom.url}/miniapp")

    await page.run(open_bare)
    assert await page.result() == "Open this page from the bot in Telegram to check in."
    assert await page.script("return document.getElementById('submit').disabled")
