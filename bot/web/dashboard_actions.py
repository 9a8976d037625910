"""The teacher dashboard's actions beyond the table: removing a student, the excuse queue,
roster import and claims, the timetable and the report files. Each goes through the service
the bot's command or button uses, after the course permission that command asks for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from bot.container import Services
from bot.replies.files import report_labels
from bot.settings import Settings
from bot.text import speaking, t
from bot.web.dashboard_http import (
    API_PREFIX,
    NO_STORE,
    AuthHeader,
    DashboardRoute,
    DecisionBody,
    course_for,
    error,
    json_response,
    signed_in,
)
from bot.web.deps import ServicesDep, SettingsDep
from bot.web.miniapp import known_language, plain
from services.course_access import Permission
from services.errors import InvalidArgument
from services.report_files import report_csv, report_xlsx

actions = APIRouter(prefix=API_PREFIX, route_class=DashboardRoute, tags=["dashboard"])


@actions.delete("/courses/{course_id}/students/{student_id}")
async def dashboard_remove(
    course_id: int,
    student_id: int,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Take a student off the roster (their records stay): /remove's service and audit."""
    user = await signed_in(authorization, settings, services)
    course, _ = await services.course_admin.remove_student_by_id(
        user.user_id, course_id, student_id
    )
    return json_response({"roster_size": course.roster_size})


@actions.get("/courses/{course_id}/excuses")
async def dashboard_excuses(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """The course's excuse requests waiting for a decision, oldest first."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.MARK)
    waiting = await services.excuses.waiting(user.user_id)
    return json_response(
        {
            "requests": [
                {
                    "id": request.id,
                    "student": student.display_name,
                    "title": request.target.title,
                    "started_at": request.target.started_at.isoformat(),
                    "reason": request.reason,
                }
                for request, course, student in waiting
                if course.id == course_id
            ]
        }
    )


@actions.post("/courses/{course_id}/excuses/{request_id}")
async def dashboard_decide_excuse(
    course_id: int,
    request_id: int,
    body: DecisionBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Approve (the record becomes excused, audited) or decline: the bot buttons' service."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.MARK)
    try:  # a request of another course (or none) is not decided through this course's URL
        decision = await services.excuses.decide(
            user.user_id, request_id, approve=body.approve, course_id=course_id
        )
    except InvalidArgument as exc:
        if (exc.field, exc.problem) != ("request", "unknown"):
            raise
        return error(404, "not_found")
    return json_response({"state": decision.request.state.value})


@actions.post("/courses/{course_id}/roster")
async def dashboard_import_roster(
    course_id: int,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
    filename: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    """Import a roster file sent as the body (CSV or XLSX; `filename` tells which)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.MANAGE)
    content = await request.body()
    done = await services.roster.import_roster(user.user_id, course_id, content, filename)
    return json_response(
        {
            "added": done.added,
            "already_there": done.already_there,
            "linked": done.linked,
            "rejected": [{"line": r.line, "reason": r.reason.value} for r in done.file.rejected],
            "roster_size": done.course.roster_size,
        }
    )


@actions.get("/courses/{course_id}/claims")
async def dashboard_claims(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """The course's roster claims waiting for a decision (a number that matched no free
    place, or one already claimed), oldest first: who, the number they gave, when."""
    user = await signed_in(authorization, settings, services)
    waiting = await services.roster.waiting_claims(user.user_id, course_id)
    return json_response(
        {
            "claims": [
                {
                    "id": request.id,
                    "student_id": request.student_id,
                    "student": profile.display_name if profile else str(request.student_id),
                    "number": request.student_number,
                    "requested_at": request.requested_at.isoformat(),
                }
                for request, profile in waiting
            ]
        }
    )


@actions.post("/courses/{course_id}/claims/{request_id}")
async def dashboard_decide_claim(
    course_id: int,
    request_id: int,
    body: DecisionBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Approve or decline a student's claim of a roster number: the bot buttons' service."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.MANAGE)
    waiting = await services.roster.request_for_teacher(user.user_id, request_id)
    if waiting is None or waiting[1].id != course_id:
        return error(404, "not_found")
    decision = await services.roster.decide(user.user_id, request_id, approve=body.approve)
    if decision is None:
        return error(409, "conflict")
    return json_response({"approved": decision.approved})


async def _report_file(
    course_id: int, authorization: str | None, settings: Settings, services: Services, xlsx: bool
) -> Response:
    user, course = await course_for(authorization, settings, services, course_id, Permission.REPORT)
    report = await services.reports.course_report(user.user_id, course)
    language = known_language(user.language_code)
    labels = report_labels(language)
    with speaking(language):
        stem = plain(t("dashboard.file_name"))
    if xlsx:
        content = report_xlsx(report, labels)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = report_csv(report, labels)
        media = "text/csv; charset=utf-8"
    name = f"{stem}-{course.id}.{'xlsx' if xlsx else 'csv'}"
    return Response(
        content,
        media_type=media,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@actions.get("/courses/{course_id}/export.csv")
async def dashboard_export_csv(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> Response:
    """The course report as CSV (what the operator's export writes)."""
    return await _report_file(course_id, authorization, settings, services, xlsx=False)


@actions.get("/courses/{course_id}/export.xlsx")
async def dashboard_export_xlsx(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> Response:
    """The course report as XLSX (what /report sends in the chat)."""
    return await _report_file(course_id, authorization, settings, services, xlsx=True)
