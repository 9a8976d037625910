"""`create_web_app`: the one ASGI app of the web server (see bot/web/__init__.py)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from bot.context import AttnApplication
from bot.settings import Settings
from bot.web import ops
from bot.web.features import feature_routers
from bot.web.middleware import BodyLimit, RequestLog, SecurityHeaders
from bot.web.miniapp_lane import MiniAppCheckInLane
from bot.web.state import Webhook, WebState
from bot.web.webhook import webhook_router

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"


def front_door(app: FastAPI, settings: Settings) -> ASGIApp:
    """What the web server serves: the app, behind the Mini App check-in's fast lane when
    the web features are on (bot/web/miniapp_lane.py)."""
    return MiniAppCheckInLane(app) if settings.web_enabled else app


def webhook_of(settings: Settings) -> Webhook | None:
    """The webhook ATTN_WEBHOOK_URL and ATTN_WEBHOOK_SECRET describe (None: polling)."""
    if not settings.webhook_url:
        return None
    assert settings.webhook_secret is not None  # the settings refuse a webhook without one
    # Routes match the decoded path; Telegram posts to the URL as given.
    return Webhook(
        unquote(settings.webhook_path), settings.webhook_secret.get_secret_value().encode()
    )


def create_web_app(
    application: AttnApplication,
    settings: Settings,
    *,
    state: WebState | None = None,
    webhook: Webhook | None = None,
) -> FastAPI:
    """The web server's app for this Application.

    Args:
        application: the bot's Application (built, not necessarily started).
        settings: the settings; `public_url` decides whether the web features are served.
        state: shared with the `WebServer` that runs the app (a fresh one when None).
        webhook: where Telegram posts updates; by default the one of the settings (none in
            polling mode).
    """
    app = FastAPI(
        title="ATTN",
        docs_url=None,  # the interactive docs load scripts from a CDN the CSP forbids
        redoc_url=None,
        openapi_url="/openapi.json" if settings.web_enabled else None,
        **_without_telemetry(),
    )
    app.state.application = application
    app.state.settings = settings
    app.state.web = state or WebState()
    webhook = webhook or webhook_of(settings)
    if webhook is not None:
        app.include_router(webhook_router(application, webhook, app.state.web))
    app.include_router(ops.router)
    if settings.web_enabled:
        for router in feature_routers():
            app.include_router(router)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # The last added runs first: log everything, then headers, then the body limit.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    return app


def _without_telemetry() -> dict[str, Any]:
    """FastAPI's OpenTelemetry bridge switched off where FastAPI has one (0.16x): ATTN
    serves its own `/metrics`, and the bridge asks OpenTelemetry's global providers on every
    request whether anyone listens (about a tenth of a Mini App check-in's time)."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 naming the fields at fault, never repeating what was sent.

    FastAPI's default answer echoes the input: a number JSON cannot carry back (Python's
    reader takes NaN and 1e999) made it a 500 with a traceback in the log, and an echo may
    hand a credential back. (The REST API answers its own errors: bot/web/api_http.py.)
    """
    assert isinstance(exc, RequestValidationError)
    where = "; ".join(
        ".".join(str(part) for part in error.get("loc", ())) + ": " + str(error.get("msg", ""))
        for error in exc.errors()
    )
    return JSONResponse(
        {"error": "invalid_request", "message": where[:500]},
        status_code=422,
        headers={"Cache-Control": "no-store"},
    )
