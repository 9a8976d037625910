"""What every endpoint of the teacher dashboard shares: its paths, the check of initData,
and the answers to the services' refusals (403 for a course that is not the user's or a role
that does not allow the action, whether or not the course exists)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from bot.cards import DASHBOARD_PAGE
from bot.container import Services
from bot.replies import invalid_argument
from bot.settings import Settings
from bot.text import speaking, t
from bot.web.init_data import InitDataRefused, WebAppUser
from bot.web.miniapp import known_language, plain
from bot.web.miniapp_api import _authenticate, _refused
from services.corrections import SessionBusy, StudentNotFound
from services.course_access import NotPermitted, Permission
from services.dashboard import DashboardService
from services.errors import InvalidArgument, NotATeacher, NotYours, StorageUnavailable
from services.excuses import AlreadyDecided
from services.models import Course

PAGE_PATH = DASHBOARD_PAGE
API_PREFIX = "/app/api/teacher"
NO_STORE = {"Cache-Control": "no-store"}

AuthHeader = Annotated[str | None, Header()]

#: Refusals of what the page sends that the bot's own replies have no text for (the chat's
#: buttons cannot send a malformed day or time); their text is `dashboard.invalid.<problem>`.
_PAGE_INVALID = frozenset({("timetable", "weekday"), ("timetable", "time"), ("timetable", "date")})


class Answered(Exception):
    """An answer decided before the endpoint's work (a refused initData), returned as is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def invalid_message(exc: InvalidArgument, language: str) -> str:
    """Why the input was refused, in plain words in `language` (the bot's reply for the same
    refusal, where it has one)."""
    with speaking(language):
        if (exc.field, exc.problem) in _PAGE_INVALID:
            return plain(t(f"dashboard.invalid.{exc.problem}"))
        return plain(invalid_argument(exc))


class DashboardRoute(APIRoute):
    """Every API route: a refusal of the services as a short JSON answer (403 for a course
    that is not the user's or a role that does not allow it; 400 with a message in the
    page's language, which it sends as Accept-Language, for input the service refused),
    never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Answered as answered:
                return answered.response
            except (NotYours, NotATeacher, NotPermitted):
                return error(403, "forbidden")
            except StudentNotFound:
                return error(404, "not_found")
            except (AlreadyDecided, SessionBusy):
                return error(409, "conflict")
            except InvalidArgument as exc:
                language = known_language(request.headers.get("accept-language"))
                return error(
                    400, f"{exc.field}.{exc.problem}", message=invalid_message(exc, language)
                )
            except StorageUnavailable:
                return error(503, "unavailable")

        return handler


def error(status: int, code: str, *, message: str | None = None) -> JSONResponse:
    body = {"error": code} if message is None else {"error": code, "message": message}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool


def dashboard_of(services: Services) -> DashboardService:
    return DashboardService(
        access=services.access, reports=services.reports, reads=services.records.api_reads
    )


async def signed_in(
    authorization: str | None, settings: Settings, services: Services
) -> WebAppUser:
    """The verified user; a refused initData is the 401 answer (`Answered`), given before
    anything is read or written."""
    user = _authenticate(authorization, settings, services)
    if isinstance(user, InitDataRefused):
        raise Answered(_refused(user))
    return user


async def course_for(
    authorization: str | None,
    settings: Settings,
    services: Services,
    course_id: int,
    permission: Permission,
) -> tuple[WebAppUser, Course]:
    """The verified user and the course, if they may do `permission` on it as the bot's
    command would let them (401, or 403 through `DashboardRoute`, otherwise)."""
    user = await signed_in(authorization, settings, services)
    course = await dashboard_of(services).course(user.user_id, course_id, permission)
    return user, course


def json_response(body: object) -> JSONResponse:
    return JSONResponse(body, headers=NO_STORE)
