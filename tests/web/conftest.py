"""A real headless Chromium (Debian's `chromium` and `chromedriver`), driven by Selenium.

No browser is downloaded: Selenium is pointed at the system's browser and driver, and told to
stay offline (Selenium Manager would otherwise look for a driver on the network). `.ci/run`
and the README's test command install both from Debian's packages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.debian import debian_program

# Where tests save what a person would look at (screenshots); CI keeps the folder in its
# workspace, a developer opens the PNGs after a run.
ARTIFACTS = Path(os.environ.get("ATTN_TEST_ARTIFACTS", "test-artifacts"))


_PACKAGES = ("chromium", "chromium-driver")


def _find(*names: str) -> str:
    return debian_program(names, _PACKAGES, "the web pages are tested in a real browser")


def new_browser(width: int = 1280, height: int = 800, *, dark: bool = False) -> webdriver.Chrome:
    """A fresh headless Chromium: its own profile, no cookies, the given window size."""
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = _find("chromium", "/usr/bin/chromium", "chromium-browser")
    for flag in (
        "--headless=new",
        "--no-sandbox",  # root in CI's container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--lang=en-US",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=_find("chromedriver", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    if width < 500:  # a headless window is never narrower than 500 px: emulate the phone
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )
    if dark:  # what `prefers-color-scheme: dark` answers, as on a phone in dark mode
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
    return driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """A headless Chromium at a desktop size, closed after the test."""
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots() -> Path:
    """The folder a test saves its screenshots in (test-artifacts/screenshots by default)."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
