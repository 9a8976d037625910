"""End-to-end: the real `attn run` process against the local fake Bot API over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotApi

TOKEN = "123456:E2E-secret-token-value"
TEACHER = 7001
ROOT = Path(__file__).resolve().parents[2]
# The console script the README's install puts next to the interpreter.
ATTN = str(Path(sys.executable).parent / "attn")


class BotProcess:
    """`attn run` as a child process, with its log kept for assertions."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [ATTN, "run"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.log_path.parent,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ATTN, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.log_path.parent,
        )


def bot_env(fake: FakeBotApi, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_")}
    env.update(
        ATTN_BOT_TOKEN=TOKEN,
        ATTN_TELEGRAM_API_URL=fake.bot_url,
        ATTN_DATA_DIR=str(data_dir),
        ATTN_TEACHER_IDS=str(TEACHER),
        ATTN_SWEEP_SECONDS="1",
        ATTN_LOG_LEVEL="DEBUG",
        PTB_TIMEDELTA="true",
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as api:
        yield api


def wait_until_polling(fake: FakeBotApi, bot: BotProcess, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fake.calls_of("getUpdates"):
            return
        assert bot.proc is not None
        if bot.proc.poll() is not None:
            raise AssertionError("attn run exited early:\n" + bot.log()[-3000:])
        time.sleep(0.2)
    raise AssertionError("attn run never started polling:\n" + bot.log()[-3000:])


def current_code(fake: FakeBotApi, chat_id: int) -> str:
    """The code the session card in `chat_id` shows now (after the bot's edits)."""
    import re

    cards = [m for m in fake.chat_messages(chat_id) if "photo" in m]
    assert cards, "no session card in that chat"
    match = re.search(r"/checkin ([A-Z0-9]{6})", cards[-1].get("caption", ""))
    assert match, cards[-1]
    return match[1]
