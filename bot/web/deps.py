"""FastAPI dependencies: what a route of the web server needs of the running bot.

    @router.get("/x")
    async def x(services: ServicesDep, settings: SettingsDep) -> ...

(the `...Dep` aliases are `Annotated[T, Depends(...)]`, which ruff's B008 accepts.)

`create_web_app` puts the Application and the settings on `app.state`; the services exist
once the Application's `post_init` has connected the stores (503 until then).

The dependencies are `async def` although they never wait: FastAPI runs a plain `def`
dependency in a worker thread, a thread hand-off each way per dependency per request (three
per Mini App check-in), for a dictionary lookup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bot.container import Services
from bot.context import SERVICES_KEY, AttnApplication
from bot.settings import Settings


async def attn_application(request: Request) -> AttnApplication:
    """The bot's Application (its `bot` sends messages, `bot_data` holds the per-process
    objects)."""
    application: AttnApplication = request.app.state.application
    return application


async def attn_services(request: Request) -> Services:
    """The services container; 503 while the bot is still connecting its stores."""
    application: AttnApplication = request.app.state.application
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is None:
        raise HTTPException(status_code=503, detail="starting", headers={"Retry-After": "1"})
    return services


async def attn_settings(request: Request) -> Settings:
    """The validated settings the bot runs with."""
    settings: Settings = request.app.state.settings
    return settings


ApplicationDep = Annotated[AttnApplication, Depends(attn_application)]
ServicesDep = Annotated[Services, Depends(attn_services)]
SettingsDep = Annotated[Settings, Depends(attn_settings)]
