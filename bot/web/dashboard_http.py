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
from bot.settings import Settings
from bot.web.init_data import InitDataRefused, WebAppUser
from bot.web.miniapp_api import _authenticate, _refused
from services.corrections import SessionBusy, StudentNotFound
from services.course_access import NotPermitted
from services.dashboard import DashboardService
from services.errors import InvalidArgument, NotATeacher, NotYours, StorageUnavailable
from services.excuses import AlreadyDecided

PAGE_PATH = DASHBOARD_PAGE
API_PREFIX = "/app/api/teacher"
NO_STORE = {"Cache-Control": "no-store"}

AuthHeader = Annotated[str | None, Header()]


class DashboardRoute(APIRoute):
    """Every API route: a refusal of the services as a short JSON answer (403 for a course
    that is not the user's or a role that does not allow it), never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except (NotYours, NotATeacher, NotPermitted):
                return error(403, "forbidden")
            except StudentNotFound:
                return error(404, "not_found")
            except (AlreadyDecided, SessionBusy):
                return error(409, "conflict")
            except InvalidArgument as exc:
                return error(400, f"{exc.field}.{exc.problem}")
            except StorageUnavailable:
                return error(503, "unavailable")

        return handler


def error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status_code=status, headers=NO_STORE)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool


def dashboard_of(services: Services) -> DashboardService:
    return DashboardService(
        access=services.access, reports=services.reports, reads=services.records.api_reads
    )


async def user_of(
    authorization: str | None, settings: Settings, services: Services
) -> WebAppUser | JSONResponse:
    """The verified user, or the 401 answer (before anything is read or written)."""
    user = _authenticate(authorization, settings, services)
    if isinstance(user, InitDataRefused):
        return _refused(user)
    return user


def json_response(body: object) -> JSONResponse:
    return JSONResponse(body, headers=NO_STORE)
