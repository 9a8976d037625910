"""The browser the web tests rely on is real: it runs scripts and lays out a page."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver

from tests.web.conftest import new_browser


def test_chromium_runs_script_and_lays_out_a_page(
    browser: webdriver.Chrome, screenshots: Path
) -> None:
    browser.get(
        "data:text/html,<meta name=viewport content='width=device-width'>"
        "<p id=p style='width:100%'>x</p><script>document.title='ran '+(6*7)</script>"
    )
    assert browser.title == "ran 42"
    width = browser.execute_script("return document.getElementById('p').offsetWidth")
    assert width > 300
    target = screenshots / "browser-check.png"
    assert browser.save_screenshot(str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_narrow_phone_width_is_honoured() -> None:
    phone = new_browser(320, 640)
    try:
        phone.get("data:text/html,<meta name=viewport content='width=device-width'><p>x</p>")
        assert phone.execute_script("return window.innerWidth") == 320
    finally:
        phone.quit()


def test_dark_mode_is_what_the_page_is_told() -> None:
    dark = new_browser(dark=True)
    try:
        dark.get("data:text/html,<p>x</p>")
        assert dark.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")
    finally:
        dark.quit()
