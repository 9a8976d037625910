"""An HTTP client of the REST API for tests: the real web server (bot/web, uvicorn on a free
port of 127.0.0.1, web features on) of a bot built on `services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bot.container import Services
from tests.conftest import make_settings
from tests.support.bot_harness import BotHarness
from tests.support.web_server import running_web_server


@asynccontextmanager
async def api_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as harness,
        running_web_server(harness.app) as base,
        httpx.AsyncClient(base_url=base, trust_env=False) as client,
    ):
        yield client
