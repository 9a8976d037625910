"""The real web server (bot/web) in-process on a free port, for a built Application.

    async with BotHarness(make_settings(public_url="http://127.0.0.1:1"), services) as harness:
        async with running_web_server(harness.app) as base:
            response = await httpx.AsyncClient(base_url=base, trust_env=False).get("/healthz")

When the page under test needs ATTN_PUBLIC_URL to be its real address (links the bot sends),
reserve the port first:

    sock, url = reserve_port()
    async with BotHarness(make_settings(public_url=url), services) as harness:
        async with running_web_server(harness.app, sock=sock) as base:  # base == url
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.context import SETTINGS_KEY, AttnApplication
from bot.settings import Settings
from bot.web.server import WebServer
from bot.web.state import Webhook

DRAIN_SECONDS = 10.0


def reserve_port() -> tuple[socket.socket, str]:
    """A socket bound to a free port of 127.0.0.1 (hand it to `running_web_server`), and the
    base URL the server will have."""
    # IPPROTO_TCP, as bot.web.server binds: asyncio sets TCP_NODELAY on accepted
    # connections only then.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def running_server(
    application: AttnApplication,
    settings: Settings | None = None,
    *,
    webhook: Webhook | None = None,
    sock: socket.socket | None = None,
) -> AsyncIterator[WebServer]:
    """The started `WebServer`; stopped as `attn run` stops it when the block ends.

    Args:
        application: built and initialised (a `BotHarness`'s `app`).
        settings: by default the ones the Application was built with.
        webhook: serve Telegram's webhook at this path with this secret.
        sock: a socket from `reserve_port` (else a free port is picked).
    """
    if settings is None:
        settings = application.bot_data[SETTINGS_KEY]
    server = WebServer(application, settings, host="127.0.0.1", port=0, webhook=webhook)
    await server.start(sock)
    try:
        yield server
    finally:
        server.stop_accepting()
        with contextlib.suppress(TimeoutError):  # a test that failed with an update held
            await asyncio.wait_for(server.idle(), DRAIN_SECONDS)
        await server.close()


@asynccontextmanager
async def running_web_server(
    application: AttnApplication,
    settings: Settings | None = None,
    *,
    webhook: Webhook | None = None,
    sock: socket.socket | None = None,
) -> AsyncIterator[str]:
    """`running_server`, yielding its base URL (`http://127.0.0.1:<port>`, no slash)."""
    async with running_server(application, settings, webhook=webhook, sock=sock) as server:
        yield server.base_url
