"""The REST API for integrations: `/api/v1`, one course per token (issue 16, build point 2).

For the registry's integration engineer:

* Authentication: `Authorization: Bearer attn_…`, a token the course's owner (or an admin)
  made with /api_tokens in the bot. It is looked up on every request (a revoked token is
  refused at once: 401). A read token may not write (403).
* A token sees its own course only; another course, or a session of another course, is 404
  (the same answer as a course that does not exist).
* Lists are paged: `limit` (1–500, default 100) and the opaque `next_cursor` of the previous
  page as `cursor`; `next_cursor` is null on the last page. Cursors are sealed: they are
  only good for the list (and course) that gave them.
* Every GET answers with a strong `ETag` (a hash of the body); sending it back in
  `If-None-Match` gets 304 with no body while nothing changed. `Cache-Control: private,
  no-cache`: a cache may keep the body, but must ask again.
* Requests per token and minute: ATTN_API_REQUESTS_PER_MINUTE; beyond, 429 with
  `Retry-After` (seconds).
* Errors are JSON: `{"error": {"status": 404, "code": "not_found", "message": "…"}}`.
* Personal data: a record names its student by student number and name (the registered or
  imported one, else the Telegram first and last name), which is what a registry matches on;
  never a Telegram id or username.
* The OpenAPI document is at `/api/openapi.json`, readable at `/api/docs` (rendered on the
  server: no CDN, no script).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import iter_route_contexts

from bot.container import Services
from bot.web.api_docs import DOCS_CSS, render_docs
from bot.web.api_http import (
    ERRORS,
    NOT_MODIFIED,
    PAGED_ERRORS,
    ApiRoute,
    CourseId,
    PageAsked,
    PageDep,
    SessionId,
    TokenDep,
    UnsupportedBody,
)
from bot.web.api_models import (
    CourseList,
    CourseOut,
    ErrorBody,
    GradePage,
    RecordPage,
    RejectedLine,
    RosterImportOut,
    SessionOut,
    SessionPage,
    course_out,
    grade_page,
    record_out,
    session_out,
)
from bot.web.deps import ServicesDep
from services.ports.api import ApiToken

API_PREFIX = "/api/v1"
#: What a roster import accepts as its body (the file as it is, not a multipart form).
ROSTER_TYPES = {
    "text/csv",
    "text/plain",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def record_page(
    services: Services,
    token: ApiToken,
    course_id: int,
    session_id: str | None,
    page: PageAsked,
) -> RecordPage:
    """A page of the course's records (of one session, or all)."""
    found = await services.api.records(
        token, course_id, session_id=session_id, cursor=page.cursor, limit=page.limit
    )
    return RecordPage(items=[record_out(r) for r in found.items], next_cursor=found.next_cursor)


def api_router() -> APIRouter:
    """The API's routes under /api/v1, and its OpenAPI document and docs page under /api."""
    v1 = APIRouter(
        prefix=API_PREFIX,
        route_class=ApiRoute,
        tags=["v1"],
        generate_unique_id_function=lambda route: route.name,
    )

    @v1.get("/courses", responses={**ERRORS, **NOT_MODIFIED})
    async def list_courses(token: TokenDep, services: ServicesDep) -> CourseList:
        """The token's course, as a list (one item) for clients that start from a list."""
        course = await services.api.course(token, token.course_id)
        return CourseList(items=[course_out(course)])

    @v1.get("/courses/{course_id}", responses={**ERRORS, **NOT_MODIFIED})
    async def get_course(course_id: CourseId, token: TokenDep, services: ServicesDep) -> CourseOut:
        """The course: name, zone, roster size and its lateness and warning settings."""
        return course_out(await services.api.course(token, course_id))

    @v1.get("/courses/{course_id}/sessions", responses={**PAGED_ERRORS, **NOT_MODIFIED})
    async def list_sessions(
        course_id: CourseId, token: TokenDep, services: ServicesDep, page: PageDep
    ) -> SessionPage:
        """The course's saved sessions by start time, with counts by status (a live session
        appears once it is saved, a few seconds after it ends)."""
        found = await services.api.sessions(token, course_id, cursor=page.cursor, limit=page.limit)
        return SessionPage(
            items=[session_out(s) for s in found.items], next_cursor=found.next_cursor
        )

    @v1.get("/courses/{course_id}/sessions/{session_id}", responses={**ERRORS, **NOT_MODIFIED})
    async def get_session(
        course_id: CourseId, session_id: SessionId, token: TokenDep, services: ServicesDep
    ) -> SessionOut:
        """One saved session of the course."""
        return session_out(await services.api.session(token, course_id, session_id))

    @v1.get(
        "/courses/{course_id}/sessions/{session_id}/records",
        responses={**PAGED_ERRORS, **NOT_MODIFIED},
    )
    async def list_session_records(
        course_id: CourseId,
        session_id: SessionId,
        token: TokenDep,
        services: ServicesDep,
        page: PageDep,
    ) -> RecordPage:
        """The session's records: each student's status, check-in time and corrections."""
        return await record_page(services, token, course_id, session_id, page)

    @v1.get("/courses/{course_id}/records", responses={**PAGED_ERRORS, **NOT_MODIFIED})
    async def list_course_records(
        course_id: CourseId, token: TokenDep, services: ServicesDep, page: PageDep
    ) -> RecordPage:
        """Every record of the course, session by session (by start), student by student."""
        return await record_page(services, token, course_id, None, page)

    @v1.get("/courses/{course_id}/grades", responses={**PAGED_ERRORS, **NOT_MODIFIED})
    async def list_grades(
        course_id: CourseId, token: TokenDep, services: ServicesDep, page: PageDep
    ) -> GradePage:
        """Each student's counts, attendance rate and grade under the course's grading
        policy (the same figures as /report), enrolled students first, by name."""
        return grade_page(
            await services.api.standings(token, course_id, cursor=page.cursor, limit=page.limit)
        )

    roster_body = {
        "requestBody": {
            "required": True,
            "description": "The roster file itself (CSV or XLSX, at most 1 MiB), as in the bot: "
            "columns student number, name, and optionally e-mail and group.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }

    @v1.post(
        "/courses/{course_id}/roster",
        responses={
            **ERRORS,
            403: {"model": ErrorBody, "description": "A read token."},
            409: {"model": ErrorBody, "description": "The course is archived."},
            413: {"description": "The file is over 1 MiB."},
            415: {"model": ErrorBody, "description": "Not a CSV or XLSX body."},
        },
        openapi_extra=roster_body,
    )
    async def import_roster(
        course_id: CourseId,
        request: Request,
        token: TokenDep,
        services: ServicesDep,
        filename: Annotated[
            str, Query(max_length=200, description="The file's name (its extension helps).")
        ] = "",
    ) -> RosterImportOut:
        """Import a roster (read-and-write tokens): new student numbers become places, numbers
        already there are left alone; importing the same file twice adds nothing. Audited
        as an import by the token's creator."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ROSTER_TYPES:
            raise UnsupportedBody()
        content = await request.body()
        done = await services.api.import_roster(token, course_id, content, filename)
        return RosterImportOut(
            added=done.added,
            already_there=done.already_there,
            linked=done.linked,
            rejected=[RejectedLine(line=r.line, reason=r.reason) for r in done.file.rejected],
            roster_size=done.course.roster_size,
        )

    docs = APIRouter(prefix="/api", include_in_schema=False)

    @docs.get("/openapi.json")
    async def openapi_document(request: Request) -> JSONResponse:
        return JSONResponse(api_openapi(request.app))

    @docs.get("/docs")
    async def docs_page(request: Request) -> HTMLResponse:
        return HTMLResponse(render_docs(api_openapi(request.app)))

    @docs.get("/docs.css")
    async def docs_style() -> Response:
        return Response(
            DOCS_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    router = APIRouter()
    router.include_router(v1)
    router.include_router(docs)
    return router


def api_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of /api/v1 alone (the app's other routes are not the API's)."""
    cached: dict[str, Any] | None = getattr(app.state, "api_openapi", None)
    if cached is None:
        routes = [
            context
            for context in iter_route_contexts(app.routes)
            if (context.path or "").startswith(API_PREFIX + "/")
        ]
        cached = get_openapi(
            title="ATTN REST API",
            version="1",
            summary="Attendance of one course per token, for the registry's systems.",
            description=__doc__ or "",
            routes=routes,
        )
        app.state.api_openapi = cached
    return cached
