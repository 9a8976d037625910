"""The REST API's HTTP plumbing: errors as JSON, ETags and 304, the Bearer token, and the
shared parameters and documented error answers of its routes."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.web.api_models import ErrorBody, ErrorDetail
from bot.web.deps import ServicesDep
from services.api import (
    DEFAULT_PAGE,
    MAX_PAGE,
    BadCursor,
    NotFound,
    RateLimited,
    ScopeRefused,
    TokenRefused,
)
from services.errors import InvalidArgument, StorageUnavailable
from services.ports.api import ApiToken


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(status=status, code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=dict(headers or {}))


class UnsupportedBody(Exception):
    """A roster import whose body is neither CSV nor XLSX (HTTP 415)."""


def _error_of(exc: Exception) -> JSONResponse | None:
    """The JSON answer to an error of the services or of validation (None: unexpected)."""
    if isinstance(exc, UnsupportedBody):
        return error_response(415, "unsupported_media_type", "Send a text/csv or XLSX body.")
    if isinstance(exc, TokenRefused):
        return error_response(
            401,
            "token_refused",
            "Missing, unknown or revoked token.",
            {"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, ScopeRefused):
        return error_response(403, "read_only_token", "This token may only read.")
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", f"No such {exc.what} for this token.")
    if isinstance(exc, BadCursor):
        return error_response(400, "bad_cursor", "This cursor was not given for this list.")
    if isinstance(exc, RateLimited):
        wait = str(max(1, math.ceil(exc.retry_after)))
        return error_response(
            429, "rate_limited", f"Too many requests; retry in {wait} s.", {"Retry-After": wait}
        )
    if isinstance(exc, InvalidArgument):
        if exc.field == "course" and exc.problem == "archived":
            return error_response(409, "course_archived", "The course is archived.")
        return error_response(422, f"{exc.field}_{exc.problem}", f"Invalid {exc.field}.")
    if isinstance(exc, StorageUnavailable):
        return error_response(
            503, "unavailable", "Storage is unavailable; retry.", {"Retry-After": "5"}
        )
    if isinstance(exc, RequestValidationError):
        where = "; ".join(
            ".".join(str(p) for p in error.get("loc", ())) + ": " + str(error.get("msg", ""))
            for error in exc.errors()
        )
        return error_response(422, "invalid_request", where[:500])
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, "http_error", str(exc.detail)[:200], exc.headers)
    return None


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match holds `etag` (strong or weak form) or `*`."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


class ApiRoute(APIRoute):
    """Every route of the API: errors as `ErrorBody` JSON, and each GET with an ETag that
    If-None-Match turns into 304."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Exception as exc:
                answer = _error_of(exc)
                if answer is None:
                    raise
                return answer
            if request.method == "GET" and response.status_code == 200:
                etag = etag_of(bytes(response.body))
                headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
                if _matches(request.headers.get("if-none-match"), etag):
                    return Response(status_code=304, headers=headers)
                response.headers.update(headers)
            return response

        return handler


# --- authentication --------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A course's token from /api_tokens.")


async def api_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The request's token, checked in the database, one request taken from its budget."""
    if credentials is None:
        raise TokenRefused()
    return await services.api.authenticate(credentials.credentials)


TokenDep = Annotated[ApiToken, Depends(api_token)]
CourseId = Annotated[int, Path(ge=1, le=2**62, description="The token's course id.")]
SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Cursor = Annotated[
    str | None, Query(max_length=1000, description="`next_cursor` of the previous page.")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]


@dataclass(frozen=True, slots=True)
class PageAsked:
    """What a list route is asked for: where to go on (`cursor`) and how many (`limit`)."""

    cursor: str | None
    limit: int


def page_asked(cursor: Cursor = None, limit: Limit = DEFAULT_PAGE) -> PageAsked:
    """The query parameters of every list route, read once here."""
    return PageAsked(cursor, limit)


PageDep = Annotated[PageAsked, Depends(page_asked)]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "Missing, unknown or revoked token."),
        (404, "Not the token's course, or no such session in it."),
        (422, "Invalid parameters."),
        (429, "Over the token's budget; see Retry-After."),
        (503, "Storage unavailable; retry."),
    )
}
PAGED_ERRORS = {**ERRORS, 400: {"model": ErrorBody, "description": "A foreign cursor."}}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match held the current ETag)."}
}
