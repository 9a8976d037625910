"""The projector page in a real headless Chromium, served by the real web server on real Redis
and PostgreSQL: the code on screen follows every rotation within a second, the count follows
check-ins, the page says "ended" at the end, and a bad, replaced or expired link gets a plain
refusal with nothing about the session. Screenshots (light, dark, 320 px, ended, refused)
are saved for a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from bot.bootstrap import build_services
from bot.card import qr_png
from bot.container import Services
from bot.web.projector import qr_svg
from services.clock import Clock, ManualClock, SystemClock
from services.models import Session
from services.projector import LINK_MARGIN
from tests.bot.test_miniapp_links import qr_text
from tests.conftest import TEACHER_ID, empty_database, make_settings
from tests.support.bot_harness import BOT_USERNAME, BotHarness
from tests.support.nginx import Nginx
from tests.support.web_server import reserve_port, running_web_server
from tests.web.conftest import new_browser

T = TypeVar("T")
ROTATION_SECONDS = 10
WATCH_SECONDS = 120.0

# Records, in the page itself, when the code and the count on screen change (the browser's
# clock is the machine's, as Python's `time.time()`), so the test never races the page.
WATCH_SCRIPT = """
window.__changes = [];
const watch = (id) => {
  const node = document.getElementById(id);
  new MutationObserver(() => window.__changes.push([id, node.textContent, Date.now()]))
    .observe(node, {childList: true, characterData: true, subtree: true});
};
watch('code'); watch('count');
"""


@dataclass
class Stack:
    services: Services
    harness: BotHarness
    base: str


@asynccontextmanager
async def web_stack(
    redis_url: str, database_url: str, clock: Clock, *, main_web_app: bool = False
) -> AsyncIterator[Stack]:
    """The bot with the web features on (ATTN_PUBLIC_URL is the server's real address) on
    real stores, its web server running in this process. `main_web_app`: what getMe says
    of a main Mini App in @BotFather."""
    sock, base = reserve_port()
    settings = make_settings(public_url=base)
    await empty_database(database_url)
    services = await build_services(settings, redis_url, database_url, clock=clock)
    await services.redis.flushdb()  # type: ignore[union-attr]
    try:
        async with (
            BotHarness(settings, services, main_web_app=main_web_app) as harness,
            running_web_server(harness.app, sock=sock) as served,
        ):
            assert served == base
            yield Stack(services, harness, base)
    finally:
        await services.close()


async def threaded(call: Callable[..., T], *args: Any) -> T:
    """A Selenium call off the event loop, which serves the page meanwhile."""
    return await asyncio.to_thread(call, *args)


async def start(services: Services, title: str = "Wave optics") -> tuple[Session, str]:
    session = await services.sessions.start_session(
        TEACHER_ID, TEACHER_ID, 30, title, rotation_seconds=ROTATION_SECONDS
    )
    link = services.projector.link(session)
    assert link is not None
    return session, link


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


async def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await threaded(check):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_the_code_on_screen_follows_each_rotation_within_a_second(
    redis_url: str, database_url: str, screenshots: Path
) -> None:
    async with web_stack(redis_url, database_url, SystemClock()) as stack:
        services = stack.services
        session, link = await start(services)
        browser = await threaded(new_browser, 1280, 800)
        try:
            await threaded(browser.get, link)
            assert await threaded(text_of, browser, "code") == session.code
            assert await threaded(text_of, browser, "count") == "0 checked in"
            heading = await threaded(text_of, browser, "heading")
            assert heading == "Wave optics"
            await threaded(browser.execute_script, WATCH_SCRIPT)

            # Two minutes of rotations, driven as the rotation job does (it runs every
            # second; here every 100 ms, so the rotation itself is not what is timed).
            rotations: list[tuple[str, float]] = []
            checked_in_at: float | None = None
            began = time.monotonic()
            while time.monotonic() - began < WATCH_SECONDS:
                before = time.time()
                rotated = await services.rotation.rotate_due_codes()
                if session.id in rotated:
                    rotations.append((rotated[session.id], before))
                if checked_in_at is None and time.monotonic() - began > 30:
                    code = rotations[-1][0] if rotations else session.code
                    checked_in_at = time.time()
                    result = await services.checkins.check_in(5150, code)
                    assert result.outcome.value == "recorded"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.2)
            changes = await threaded(browser.execute_script, "return window.__changes")
            await threaded(browser.save_screenshot, str(screenshots / "projector-light.png"))
        finally:
            await threaded(browser.quit)

        assert len(rotations) >= WATCH_SECONDS // ROTATION_SECONDS - 1
        shown = {text: at / 1000 for kind, text, at in changes if kind == "code"}
        delays = []
        for code, rotated_at in rotations:
            assert code in shown, f"code {code} never appeared on screen"
            delays.append(shown[code] - rotated_at)
        print(f"rotations: {len(rotations)}; screen delay max {max(delays):.3f} s")
        assert all(0 <= delay <= 1.0 for delay in delays), delays
        counts = [(text, at / 1000) for kind, text, at in changes if kind == "count"]
        assert checked_in_at is not None
        assert counts and counts[0][0] == "1 checked in"
        assert counts[0][1] - checked_in_at <= 1.0


async def test_themes_phone_width_end_and_refusals(
    redis_url: str, database_url: str, screenshots: Path
) -> None:
    async with web_stack(redis_url, database_url, SystemClock()) as stack:
        services = stack.services
        session, link = await start(services)
        for student in range(23):
            await services.checkins.check_in(6000 + student, session.code)

        # Dark, as `prefers-color-scheme: dark` makes it.
        dark = await threaded(lambda: new_browser(1280, 800, dark=True))
        try:
            await threaded(dark.get, link)
            assert await threaded(text_of, dark, "count") == "23 checked in"
            colours = await threaded(
                dark.execute_script,
                "return [getComputedStyle(document.body).backgroundColor,"
                " getComputedStyle(document.getElementById('code')).color,"
                " getComputedStyle(document.querySelector('.qr-box')).backgroundColor]",
            )
            assert colours[0] == "rgb(15, 18, 22)"  # dark page
            assert colours[2] == "rgb(255, 255, 255)"  # the QR stays dark on white
            await threaded(dark.save_screenshot, str(screenshots / "projector-dark.png"))
        finally:
            await threaded(dark.quit)

        # A phone, 320 px wide: nothing wider than the screen, the code whole.
        phone = await threaded(new_browser, 320, 640)
        try:
            await threaded(phone.get, link)
            widths = await threaded(
                phone.execute_script,
                "return [document.documentElement.scrollWidth, window.innerWidth,"
                " document.getElementById('code').scrollWidth,"
                " document.getElementById('code').clientWidth]",
            )
            assert widths[0] <= widths[1] == 320 and widths[2] <= widths[3], widths
            await threaded(phone.save_screenshot, str(screenshots / "projector-320.png"))
        finally:
            await threaded(phone.quit)

        # Screen readers: the count is announced, the QR and the timer are labelled.
        page = await threaded(new_browser, 1280, 800)
        try:
            await threaded(page.get, link)
            roles = await threaded(
                page.execute_script,
                "const q = (s) => document.querySelector(s);"
                "return [q('#count').getAttribute('aria-live'), q('#qr').getAttribute('role'),"
                " q('#qr').getAttribute('aria-label'), q('#left').getAttribute('role'),"
                " document.documentElement.lang]",
            )
            assert roles == ["polite", "img", "QR code: scan it to check in", "timer", "en"]
            # No script error and nothing the Content-Security-Policy refused.
            logged = await threaded(page.get_log, "browser")
            assert [entry for entry in logged if entry["level"] == "SEVERE"] == []

            # The teacher replaces the link: the open page says it no longer works.
            await services.projector.new_link(session)
            refused = await wait_for(lambda: bool(page.find_elements(By.ID, "refusal")), 1.0)
            assert refused
            assert session.code not in await threaded(lambda: page.page_source)
            renewed = await services.live.sessions.session(session.id)
            assert renewed is not None
            new_link = services.projector.link(renewed)
            assert new_link is not None and new_link != link

            # The end, the instant it happens.
            await threaded(page.get, new_link)
            assert await threaded(text_of, page, "code") == session.code
            ended_at = time.monotonic()
            await services.sessions.end_session(TEACHER_ID)
            assert await wait_for(lambda: page.find_element(By.ID, "ended").is_displayed(), 1.0)
            assert time.monotonic() - ended_at <= 1.5
            assert await threaded(text_of, page, "ended") == "Session ended"
            assert await threaded(text_of, page, "code") == ""
            await threaded(page.save_screenshot, str(screenshots / "projector-ended.png"))

            # A made-up token, the replaced one, and an unknown session: one plain refusal.
            for bad in (
                new_link[:-1] + ("A" if new_link[-1] != "A" else "B"),
                link,
                f"{stack.base}/projector/0123456789ab/{new_link.rsplit('/', 1)[1]}",
                f"{stack.base}/projector/nonsense/x",
            ):
                await threaded(page.get, bad)
                source = await threaded(lambda: page.page_source)
                assert "Link not valid" in source, bad
                for secret in (session.code, "Wave optics", "checked in", BOT_USERNAME):
                    assert secret not in source, (bad, secret)
            await threaded(page.save_screenshot, str(screenshots / "projector-refused.png"))
        finally:
            await threaded(page.quit)

        # Every page closed: no stream, so no subscription, is left behind.
        for _ in range(30):
            if services.projector.feed.watching == 0:
                break
            await asyncio.sleep(0.1)
        assert services.projector.feed.watching == 0

        async with httpx.AsyncClient(base_url=stack.base, trust_env=False) as client:
            response = await client.get(link.removeprefix(stack.base))
            assert response.status_code == 404
            assert "no-store" in response.headers["cache-control"]
            events = await client.get(link.removeprefix(stack.base) + "/events")
            assert events.headers["x-accel-buffering"] == "no"
            assert "event: refused" in events.text and "Wave" not in events.text


async def test_a_link_expires_after_its_session(redis_url: str, database_url: str) -> None:
    """Also: the page speaks the teacher's language (right to left in Persian)."""
    clock = ManualClock()
    async with web_stack(redis_url, database_url, clock) as stack:
        await stack.harness.send(TEACHER_ID, "/start")
        await stack.services.users.set_language(TEACHER_ID, "fa")
        session, link = await start(stack.services)
        path = link.removeprefix(stack.base)
        async with httpx.AsyncClient(base_url=stack.base, trust_env=False) as client:
            page = await client.get(path)
            assert page.status_code == 200
            assert '<html lang="fa" dir="rtl">' in page.text
            assert ">کد<" in page.text and "زمان باقی‌مانده" in page.text
            assert "Content-Security-Policy" in page.headers
            head = await client.head(path)  # a link checker or a chat preview asking first
            assert (head.status_code, head.content) == (200, b"")
            assert (
                head.headers["content-security-policy"] == page.headers["content-security-policy"]
            )
            clock.advance(minutes=30)
            ended = await client.get(path)
            assert ended.status_code == 200 and "جلسه به پایان رسید" in ended.text
            assert session.code not in ended.text
            clock.advance(seconds=LINK_MARGIN.total_seconds())
            expired = await client.get(path)
            assert expired.status_code == 404 and "Link not valid" in expired.text  # default
            assert (await client.head(path)).status_code == 404


async def _states(response: httpx.Response) -> AsyncGenerator[dict[str, Any], None]:
    """The `state` events of a server-sent events stream, as they arrive."""
    name, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and name:
            if name == "state":
                yield json.loads(data)
            name, data = "", ""


async def test_events_pass_through_nginx_at_once(
    redis_url: str, database_url: str, tmp_path: Path
) -> None:
    """Behind the load balancer (tests/support/nginx.py, as deploy/nginx.conf), a rotated
    code still reaches the page within the second: nothing buffers the stream."""
    clock = ManualClock()
    async with web_stack(redis_url, database_url, clock) as stack:
        services = stack.services
        session, link = await start(services)
        nginx = Nginx(tmp_path, [int(stack.base.rsplit(":", 1)[1])]).start()
        try:
            path = link.removeprefix(stack.base) + "/events"
            async with (
                httpx.AsyncClient(base_url=nginx.url, trust_env=False, timeout=10) as client,
                client.stream("GET", path) as response,
            ):
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async with contextlib.aclosing(_states(response)) as states:
                    first = await asyncio.wait_for(anext(states), 2.0)
                    assert first["code"] == session.code and "<svg" in first["qr"]
                    for _ in range(3):
                        clock.advance(seconds=ROTATION_SECONDS)
                        began = time.monotonic()
                        rotated = await services.rotation.rotate_due_codes()
                        state = await asyncio.wait_for(anext(states), 1.0)
                        assert state["code"] == rotated[session.id] and "<svg" in state["qr"]
                        assert time.monotonic() - began <= 1.0
        finally:
            nginx.stop()


@pytest.mark.parametrize("main_web_app", [True, False], ids=["main-mini-app", "none"])
async def test_the_projector_shows_the_cards_qr(
    redis_url: str, database_url: str, main_web_app: bool
) -> None:
    """With the web on, the card's QR opens the Mini App (`startapp`) when the bot has a
    main one in @BotFather, else the chat (`start`); either way the projector page shows
    the very same QR, and the card's Projector button opens that page."""
    clock = ManualClock()
    async with web_stack(redis_url, database_url, clock, main_web_app=main_web_app) as stack:
        harness = stack.harness
        await harness.send(TEACHER_ID, "/start_session 30 Optics")
        posted = next(c for c in harness.request.calls if c.method == "sendPhoto")
        session = await stack.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        parameter = f"ci_{session.id}-{session.code}"
        opens = "startapp" if main_web_app else "start"
        scanned = f"https://t.me/{BOT_USERNAME}?{opens}={parameter}"
        assert qr_text(posted) == scanned  # what a phone reads off the card
        assert posted.params["_files"]["photo"][1] == qr_png(scanned)
        [link] = [
            button["url"]
            for row in posted.params["reply_markup"]["inline_keyboard"]
            for button in row
            if button["text"] == "📽 Projector"
        ]
        path = link.removeprefix(stack.base)
        async with httpx.AsyncClient(base_url=stack.base, trust_env=False, timeout=10) as client:
            page = await client.get(path)
            assert page.status_code == 200 and qr_svg(scanned) in page.text
            # The generator is closed while the stream is open (one left to the loop's
            # teardown to finalise hung it: the response it reads was gone by then).
            async with (
                client.stream("GET", path + "/events") as response,
                contextlib.aclosing(_states(response)) as states,
            ):
                first = await asyncio.wait_for(anext(states), 2.0)
        assert first["qr"] == qr_svg(scanned) and first["code"] == session.code
