"""An HTTP client of the REST API for tests: the API's router on an app of its own, over
httpx's ASGI transport, with `services` as the running bot's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from bot.container import Services
from bot.web.api import api_router
from bot.web.deps import attn_services


@asynccontextmanager
async def api_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api_router())
    app.dependency_overrides[attn_services] = lambda: services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://attn.test") as client:
        yield client
