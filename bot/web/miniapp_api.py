"""The Mini App over HTTP: its page and its JSON API.

    GET  /miniapp                   the page (Telegram opens it; static files under /static)
    GET  /api/miniapp/config        the page's texts in the user's language (and a refusal)
    POST /api/miniapp/checkin       {"code": ..., "location": {...}?} -> the outcome, now
    GET  /api/miniapp/history       what /history shows

Every API call carries `Authorization: tma <initData>`, checked as Telegram documents
(bot.web.init_data) before anything is read or written; the user is the one initData
names, never one a request body names. No cookies, so no cross-site request can act for
anyone; the page's Content-Security-Policy allows scripts only from here and telegram.org.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.cards import MINI_APP_PAGE
from bot.container import Services
from bot.context import AttnApplication
from bot.gate import LIMITER_KEY
from bot.metrics import metrics_of
from bot.ratelimit import UpdateLimiter
from bot.settings import Settings
from bot.text import speaking, t
from bot.web.deps import (
    ApplicationDep,
    ServicesDep,
    SettingsDep,
    attn_application,
    attn_services,
    attn_settings,
)
from bot.web.init_data import InitDataRefused, WebAppUser, validate_init_data
from bot.web.miniapp import (
    Location,
    MiniAppDesk,
    known_language,
    page_direction,
    page_texts,
    plain,
    refusal_message,
)
from services.errors import InvalidArgument, StorageUnavailable

PAGE_PATH = MINI_APP_PAGE
API_PREFIX = "/api/miniapp"
AUTH_SCHEME = "tma"
PAGE_FILE = Path(__file__).parent / "static" / "miniapp" / "index.html"

# The page runs scripts from here and Telegram's one script, talks only to this server, and
# may be framed only by Telegram Web (the apps show it in their own web view).
PAGE_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors https://web.telegram.org",
    )
)
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter()

AuthHeader = Annotated[str | None, Header()]


class LocationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(default=None, ge=0)


class CheckInBody(BaseModel):
    """A code as typed, a scanned QR's text or link, or a start parameter; the location
    when the session asked for it (`location_required` in the previous answer)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=300)
    location: LocationBody | None = None


@cache
def _page() -> str:
    return PAGE_FILE.read_text(encoding="utf-8")


@router.get(PAGE_PATH, include_in_schema=False)
@router.head(PAGE_PATH, include_in_schema=False)  # link checkers, previews, uptime probes
async def miniapp_page() -> HTMLResponse:
    """The Mini App (the same page for everyone: who opened it is in its URL fragment,
    which never reaches a server, and goes to the API in a header)."""
    return HTMLResponse(
        _page(),
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """A Mini App API answer before it is HTTP: its status, JSON body and extra headers
    (every answer is `Cache-Control: no-store`)."""

    status: int
    body: Mapping[str, object]
    headers: Mapping[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.body, status_code=self.status, headers={**_NO_STORE, **self.headers}
        )


def _authenticate(
    authorization: str | None, settings: Settings, services: Services
) -> WebAppUser | InitDataRefused:
    """The verified user, or why not (before anything is read or written)."""
    scheme, _, init_data = (authorization or "").partition(" ")
    try:
        return validate_init_data(
            init_data.strip() if scheme.lower() == AUTH_SCHEME else "",
            settings.bot_token.get_secret_value(),
            now=services.sessions.now(),
            max_age=timedelta(seconds=settings.webapp_auth_max_age),
        )
    except InitDataRefused as refused:
        return refused


def _refusal(refused: InitDataRefused) -> dict[str, str]:
    return {
        "error": refused.reason.value,
        "message": refusal_message(refused.reason, refused.language_code),
    }


def _refused_answer(refused: InitDataRefused) -> ApiAnswer:
    return ApiAnswer(401, _refusal(refused), {"WWW-Authenticate": AUTH_SCHEME})


def _refused(refused: InitDataRefused) -> JSONResponse:
    return _refused_answer(refused).response()


def _too_fast(application: AttnApplication, user: WebAppUser) -> ApiAnswer | None:
    """The chat's per-user limit, shared with the user's messages: a flooding account is
    refused (429) before any store is touched."""
    limiter: UpdateLimiter | None = application.bot_data.get(LIMITER_KEY)
    if limiter is None or limiter.allow_user(user.user_id):
        return None
    with speaking(known_language(user.language_code)):
        message = plain(t("miniapp.slow_down"))
    return ApiAnswer(429, {"error": "slow_down", "message": message}, {"Retry-After": "10"})


def _unavailable_answer(language: str | None) -> ApiAnswer:
    with speaking(known_language(language)):
        message = plain(t("error.unavailable"))
    return ApiAnswer(503, {"error": "unavailable", "message": message})


# bot_data's key for the application's MiniAppDesk (with the services it was built on).
_DESK_KEY = "miniapp_desk"


def _desk(application: AttnApplication, services: Services) -> MiniAppDesk:
    """The application's desk, built once per set of services (not once per request)."""
    built: tuple[Services, MiniAppDesk] | None = application.bot_data.get(_DESK_KEY)
    if built is not None and built[0] is services:
        return built[1]
    defaults = application.bot.defaults
    tz = defaults.tzinfo if defaults and defaults.tzinfo else None
    assert tz is not None, "build_application sets the bot's time zone"
    desk = MiniAppDesk(services, metrics_of(application), tz)
    application.bot_data[_DESK_KEY] = (services, desk)
    return desk


@router.get(f"{API_PREFIX}/config")
async def miniapp_config(
    application: ApplicationDep,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> JSONResponse:
    """The page's texts: in the user's own language when initData is valid (their choice
    in /settings, else their Telegram app's), else in `lang` (what the unverified initData
    claims) with the reason it was refused, so the refusal reads in their language too."""
    user = _authenticate(authorization, settings, services)
    refusal = None
    if isinstance(user, InitDataRefused):
        language = known_language(lang)
        refusal = _refusal(user)
    else:
        try:
            language = await _desk(application, services).language(user)
        except StorageUnavailable:
            language = known_language(user.language_code)
    body: dict[str, object] = {
        "language": language,
        "direction": page_direction(language),
        "texts": page_texts(language),
        "authenticated": refusal is None,
    }
    if refusal is not None:
        body["refusal"] = refusal
    return JSONResponse(body, headers=_NO_STORE)


async def check_in_answer(
    application: AttnApplication,
    services: Services,
    settings: Settings,
    authorization: str | None,
    code: str,
    location: Location | None,
) -> ApiAnswer:
    """The check-in's answer, whichever way the request came in (the FastAPI route below,
    or `bot.web.miniapp_lane` for the plain JSON bodies every phone sends): one function,
    so both give the same answer to the same request."""
    user = _authenticate(authorization, settings, services)
    if isinstance(user, InitDataRefused):
        return _refused_answer(user)
    if (refusal := _too_fast(application, user)) is not None:
        return refusal
    try:
        answer = await _desk(application, services).check_in(user, code, location)
    except InvalidArgument:
        with speaking(known_language(user.language_code)):
            message = plain(t("miniapp.not_a_code"))
        return ApiAnswer(400, {"error": "not_a_code", "message": message})
    except StorageUnavailable:
        return _unavailable_answer(user.language_code)
    return ApiAnswer(200, answer.as_json())


@router.post(f"{API_PREFIX}/checkin")
async def miniapp_checkin(
    body: CheckInBody,
    request: Request,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Check the initData's user in with the code (and location): answered here, at once,
    with the same outcomes as the chat's /checkin.

    Most requests never reach this route: `bot.web.miniapp_lane` answers the plain bodies
    every phone sends before FastAPI routes and validates them, and hands anything else
    here (so a malformed body gets FastAPI's validation answer, unchanged).
    """
    application = await attn_application(request)
    services = await attn_services(request)
    settings = await attn_settings(request)
    location = None
    if body.location is not None:
        place = body.location
        location = Location(place.latitude, place.longitude, place.accuracy)
    answer = await check_in_answer(
        application, services, settings, authorization, body.code, location
    )
    return answer.response()


@router.get(f"{API_PREFIX}/history")
async def miniapp_history(
    application: ApplicationDep,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """The student's own attendance per course, as /history shows it."""
    user = _authenticate(authorization, settings, services)
    if isinstance(user, InitDataRefused):
        return _refused(user)
    if (refusal := _too_fast(application, user)) is not None:
        return refusal.response()
    try:
        history = await _desk(application, services).history(user)
    except StorageUnavailable:
        return _unavailable_answer(user.language_code).response()
    return JSONResponse(history, headers=_NO_STORE)
