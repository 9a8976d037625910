"""The webhook-mode HTTP server's readiness through real Redis and PostgreSQL outages."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.container import Services
from bot.web.server import WebServer
from tests.bot.test_webserver import serve
from tests.support.bot_harness import BotHarness
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxied_web(
    proxied_services: Services,
) -> AsyncIterator[tuple[BotHarness, WebServer, httpx.AsyncClient]]:
    async for served in serve(proxied_services):
        yield served


async def wait_for_ready(client: httpx.AsyncClient, want: int, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/readyz")
        if response.status_code == want:
            body: dict[str, Any] = response.json()
            return body
        assert time.monotonic() < deadline, (want, response.status_code, response.text)
        await asyncio.sleep(0.1)


async def test_readyz_follows_redis_and_postgresql(
    proxied_web: tuple[BotHarness, WebServer, httpx.AsyncClient],
    proxies: tuple[TcpProxy, TcpProxy],
) -> None:
    _, _, client = proxied_web
    redis_proxy, pg_proxy = proxies
    assert (await client.get("/healthz")).text == "ok\n"
    assert await wait_for_ready(client, 200, 5) == {
        "ready": True,
        "redis": "ok",
        "postgresql": "ok",
    }

    for proxy, name in ((redis_proxy, "redis"), (pg_proxy, "postgresql")):
        await proxy.cut()
        started = time.monotonic()
        body = await wait_for_ready(client, 503, 5)
        assert time.monotonic() - started < 5
        assert body[name] == "unavailable" and body["ready"] is False
        other = "postgresql" if name == "redis" else "redis"
        assert body[other] == "ok"
        assert (await client.get("/healthz")).status_code == 200  # alive all along
        await proxy.restore()
        assert (await wait_for_ready(client, 200, 10))["ready"] is True

    await redis_proxy.cut()
    await pg_proxy.cut()
    body = await wait_for_ready(client, 503, 5)
    assert body == {"ready": False, "redis": "unavailable", "postgresql": "unavailable"}
    assert json.dumps(body).count("unavailable") == 2
    await redis_proxy.restore()
    await pg_proxy.restore()
    await wait_for_ready(client, 200, 10)
