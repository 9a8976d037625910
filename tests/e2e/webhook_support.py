"""Helpers for running `attn run` in webhook mode against the fake Bot API."""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.e2e.conftest import BotProcess, bot_env
from tests.fakes.botapi import FakeBotApi

SECRET = "e2e-webhook_SECRET-0123456789-abcdefghij"
HOOK_PATH = "/telegram/hook"
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """(status, body) of one request; no proxy, errors are answers too."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with _opener.open(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str) -> float:
    """One sample of a Prometheus exposition, by its full name with labels."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, flags=re.MULTILINE)
    assert match is not None, f"{name} not in /metrics"
    return float(match[1])


def webhook_env(fake: FakeBotApi, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    return bot_env(
        fake,
        data_dir,
        ATTN_WEBHOOK_URL=f"http://127.0.0.1:{port}{HOOK_PATH}",
        ATTN_WEBHOOK_SECRET=SECRET,
        ATTN_LISTEN_HOST="127.0.0.1",
        ATTN_LISTEN_PORT=str(port),
        **extra,
    )


def wait_until_webhook(fake: FakeBotApi, bot: BotProcess, timeout: float = 90) -> None:
    """Until this process has registered its webhook (and so serves it)."""
    before = len(fake.calls_of("setWebhook", ok_only=True))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert bot.proc is not None
        if bot.proc.poll() is not None:
            raise AssertionError("attn run exited early:\n" + bot.log()[-3000:])
        if len(fake.calls_of("setWebhook", ok_only=True)) > before:
            return
        time.sleep(0.1)
    raise AssertionError("attn run never set its webhook:\n" + bot.log()[-3000:])
