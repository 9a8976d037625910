"""Every configured secret is redacted from the logs, however short, at every level."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from telegram import Bot
from telegram.ext import Application

from bot.__main__ import secrets_of
from bot.logging_setup import SkippedTickIsExpected, configure_logging
from bot.settings import Settings
from tests.fakes.botapi import FakeBotApi

TOKEN = "123456:LOGGING-test-token"
WEBHOOK_SECRET = "W" * 20 + "ebhook_secret-xyz"  # 37 characters
DB_PASSWORD = "p4Zw"  # four characters: still a password
REDIS_PASSWORD = "r/3d"  # four, and percent-encoded in its URL


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers: put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler_filters = scheduler.filters[:]
    yield
    scheduler.filters[:] = scheduler_filters
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        database_url=f"postgresql://attn:{DB_PASSWORD}@db.example.org:5432/attn",
        redis_url="redis://:r%2F3d@cache.example.org:6379/0",
        webhook_url="https://bot.example.org/hook",
        webhook_secret=WEBHOOK_SECRET,
    )


async def test_short_secrets_are_redacted_at_debug(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings()
    configure_logging("DEBUG", secrets_of(s))
    log = logging.getLogger("attn.test")
    log.debug("connecting with password %s to %s", DB_PASSWORD, s.database_url)
    assert s.database_url is not None and s.redis_url is not None
    log.debug("url %s", s.database_url.get_secret_value())
    log.debug("redis url %s, password %s", s.redis_url.get_secret_value(), REDIS_PASSWORD)
    try:
        raise ConnectionError(f"auth failed for attn with {DB_PASSWORD}")
    except ConnectionError:
        log.exception("PostgreSQL refused us")
    # python-telegram-bot logs setWebhook's parameters, secret_token included, at DEBUG.
    with FakeBotApi(token=TOKEN) as fake:
        async with Bot(TOKEN, base_url=fake.bot_url) as bot:
            await bot.set_webhook("https://bot.example.org/hook", secret_token=WEBHOOK_SECRET)
        assert fake.webhook is not None and fake.webhook.secret_token == WEBHOOK_SECRET
    err = capsys.readouterr().err
    assert "setWebhook" in err and "auth failed" in err and "[redacted]" in err
    for secret in (DB_PASSWORD, REDIS_PASSWORD, "r%2F3d", WEBHOOK_SECRET, TOKEN, "LOGGING-test"):
        assert secret not in err, secret


async def _run_job(seconds_running: float, watched: float) -> int:
    """A real JobQueue ticking every 0.1 s, its one job taking `seconds_running`, watched
    for `watched` seconds; how many times the job ran."""
    application = Application.builder().token(TOKEN).build()
    job_queue = application.job_queue
    assert job_queue is not None
    runs = 0

    async def job(_: object) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(seconds_running)

    job_queue.set_application(application)
    await job_queue.start()
    try:
        job_queue.run_repeating(
            job,
            interval=0.1,
            first=0.0,
            name="slow_job",
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        await asyncio.sleep(watched)
    finally:
        await job_queue.stop(wait=False)
    return runs


async def test_a_job_outlasting_its_tick_is_not_logged_as_a_fault(
    root_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job that outlasts its interval (a summary waiting for Telegram's pace) has its next
    ticks skipped by design; the log says nothing about it, and the scheduler's other
    warnings still show."""
    configure_logging("INFO", [])
    runs = await _run_job(0.6, 1.5)
    logging.getLogger("apscheduler.scheduler").warning("something else went wrong")
    err = capsys.readouterr().err
    assert 2 <= runs <= 3  # the ticks in between were skipped
    assert "maximum number of running instances" not in err
    assert "still running" not in err
    assert "something else went wrong" in err


async def test_a_job_that_does_not_finish_is_said_once_in_a_while(
    root_logging: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job stuck for longer than the quiet time (a sweep waiting on a lost connection) is
    said, once per repeat time, not at every skipped tick."""
    monkeypatch.setattr(SkippedTickIsExpected, "QUIET_SECONDS", 0.5)
    monkeypatch.setattr(SkippedTickIsExpected, "REPEAT_SECONDS", 1.0)
    configure_logging("INFO", [])
    runs = await _run_job(60.0, 2.2)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "still running" in line]
    assert runs == 1
    assert 2 <= len(lines) <= 3, err  # at ~0.5 s, ~1.5 s (and ~2.5 s at the latest)
    assert all(
        "WARNING apscheduler.scheduler: job slow_job still running after" in line for line in lines
    )
    assert "maximum number of running instances" not in err
