"""The REST API's docs page in a real browser: served by the real web server, laid out with
its own stylesheet under the strict CSP (nothing blocked, nothing from a CDN), every
operation of the OpenAPI document shown; screenshots light and dark."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from bot.container import Services
from tests.conftest import make_settings
from tests.support.bot_harness import BotHarness
from tests.support.web_server import running_web_server
from tests.web.conftest import new_browser


async def test_the_docs_page_reads_the_document(
    services: Services, browser: webdriver.Chrome, screenshots: Path
) -> None:
    settings = make_settings(public_url="https://attn.example.org")
    async with BotHarness(settings, services) as harness, running_web_server(harness.app) as base:
        async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
            document = (await client.get("/api/openapi.json")).json()
        dark = new_browser(390, 844, dark=True)
        try:
            for driver, name in ((browser, "api-docs.png"), (dark, "api-docs-dark-phone.png")):
                # In a thread: the server answers on this test's event loop.
                await asyncio.to_thread(driver.get, f"{base}/api/docs")
                assert driver.title == "ATTN REST API"
                ops = driver.find_elements(By.CSS_SELECTOR, ".op")
                assert len(ops) == sum(len(m) for m in document["paths"].values())
                # The stylesheet applied (a CSP block would leave the browser's defaults).
                radius = driver.execute_script(
                    "return getComputedStyle(document.querySelector('.op')).borderRadius"
                )
                assert radius == "8px"
                blocked = [
                    entry["message"]
                    for entry in driver.get_log("browser")
                    if "Content Security Policy" in entry["message"]
                ]
                assert blocked == []
                assert driver.save_screenshot(str(screenshots / name))
            background = dark.execute_script(
                "return getComputedStyle(document.body).backgroundColor"
            )
            assert background == "rgb(20, 20, 22)"
            text = browser.find_element(By.TAG_NAME, "body").text
            for path in document["paths"]:
                assert path in text
        finally:
            dark.quit()
