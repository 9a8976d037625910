"""The teacher dashboard over HTTP (issue 16, build point 1): its page and its JSON API.

    GET    /app/teacher                                       the page (static files in /static)
    GET    /app/api/teacher/config                            the page's texts
    GET    /app/api/teacher/courses                           my courses, with my role
    GET    /app/api/teacher/courses/{c}/table                 students × sessions, rates, grades
    GET    /app/api/teacher/courses/{c}/students/{s}          every record and correction
    POST   /app/api/teacher/courses/{c}/cells                 correct one cell (as /mark)
    DELETE /app/api/teacher/courses/{c}/students/{s}          remove a student (as /remove)
    GET    /app/api/teacher/courses/{c}/excuses               the course's waiting requests
    POST   /app/api/teacher/courses/{c}/excuses/{r}           approve or decline (as the buttons)
    POST   /app/api/teacher/courses/{c}/roster                import a roster file (raw body)
    GET    /app/api/teacher/courses/{c}/claims                the roster claims waiting
    POST   /app/api/teacher/courses/{c}/claims/{r}            approve or decline a claim
    GET    /app/api/teacher/courses/{c}/timetable[/...]       the timetable, and changing it
                                                              (bot/web/dashboard_timetable.py)
    GET    /app/api/teacher/courses/{c}/export.csv|.xlsx      the report files, as downloads

Authentication is the Mini App's: `Authorization: tma <initData>`, checked as Telegram
documents before anything is read; the user is the one initData names. Every course
endpoint asks `CourseAccess` for the permission the bot's command asks for; a course that
is not the user's is 403 whatever the endpoint (and whether or not the course exists).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.text import speaking, t
from bot.web.dashboard_actions import actions
from bot.web.dashboard_http import (
    API_PREFIX,
    PAGE_PATH,
    AuthHeader,
    DashboardRoute,
    course_for,
    dashboard_of,
    error,
    json_response,
    signed_in,
)
from bot.web.dashboard_timetable import timetable
from bot.web.deps import ApplicationDep, ServicesDep, SettingsDep
from bot.web.init_data import InitDataRefused
from bot.web.miniapp import known_language, page_direction, plain
from bot.web.miniapp_api import PAGE_CSP, _authenticate, _desk
from services.course_access import GRANTS, Permission
from services.models import AttendanceStatus

__all__ = ["API_PREFIX", "PAGE_PATH", "router"]

PAGE_FILE = Path(__file__).parent / "static" / "dashboard" / "index.html"

PAGE_TEXTS = (
    "dashboard.title",
    "dashboard.courses",
    "dashboard.no_courses",
    "dashboard.role.owner",
    "dashboard.role.co_teacher",
    "dashboard.role.assistant",
    "dashboard.back",
    "dashboard.filter_label",
    "dashboard.status_filter",
    "dashboard.status_any",
    "dashboard.status.present",
    "dashboard.status.late",
    "dashboard.status.excused",
    "dashboard.status.absent",
    "dashboard.status.none",
    "dashboard.letter.present",
    "dashboard.letter.late",
    "dashboard.letter.excused",
    "dashboard.letter.absent",
    "dashboard.letter.none",
    "dashboard.student",
    "dashboard.number",
    "dashboard.rate",
    "dashboard.grade",
    "dashboard.no_sessions",
    "dashboard.correct_title",
    "dashboard.save",
    "dashboard.cancel",
    "dashboard.saved",
    "dashboard.changes",
    "dashboard.no_changes",
    "dashboard.excuses",
    "dashboard.no_excuses",
    "dashboard.approve",
    "dashboard.decline",
    "dashboard.roster",
    "dashboard.roster_hint",
    "dashboard.import",
    "dashboard.imported",
    "dashboard.rejected",
    "dashboard.remove",
    "dashboard.export_csv",
    "dashboard.export_xlsx",
    "dashboard.chart",
    "dashboard.timetable",
    "dashboard.no_classes",
    "dashboard.loading",
    "dashboard.network",
    "dashboard.forbidden",
    "dashboard.refused",
    "dashboard.claims",
    "dashboard.no_claims",
    "dashboard.claim_number",
    "dashboard.timetable_title",
    "dashboard.weekly",
    "dashboard.no_slots",
    "dashboard.weekday",
    "dashboard.start",
    "dashboard.minutes",
    "dashboard.add_slot",
    "dashboard.delete",
    "dashboard.term",
    "dashboard.first_day",
    "dashboard.last_day",
    "dashboard.early",
    "dashboard.remind",
    "dashboard.holidays",
    "dashboard.no_holidays",
    "dashboard.day",
    "dashboard.skip_day",
    "dashboard.zone",
    "dashboard.invalid.weekday",
    "dashboard.invalid.time",
    "dashboard.invalid.date",
    "dashboard.invalid.input",
    "dashboard.no_group",
    "dashboard.timetable_file",
    "dashboard.gone",
    # The chat's own words for the linked group (/timetable's message and button).
    "timetable.group_linked",
    "timetable.button.unlink",
)


def page_texts(language: str) -> dict[str, str]:
    with speaking(language):
        return {key.removeprefix("dashboard."): plain(t(key)) for key in PAGE_TEXTS}


router = APIRouter()
api = APIRouter(prefix=API_PREFIX, route_class=DashboardRoute, tags=["dashboard"])


class CellBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=100)
    student_id: int
    status: AttendanceStatus


@cache
def _page() -> str:
    return PAGE_FILE.read_text(encoding="utf-8")


@router.get(PAGE_PATH, include_in_schema=False)
@router.head(PAGE_PATH, include_in_schema=False)  # link checkers, previews, uptime probes
async def dashboard_page() -> HTMLResponse:
    """The page (the same for everyone: who opened it travels in the API's header)."""
    return HTMLResponse(
        _page(),
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@api.get("/config")
async def dashboard_config(
    application: ApplicationDep,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
) -> JSONResponse:
    """The page's texts in the user's language (the one their initData claims when it
    is refused, with `authenticated` false)."""
    user = _authenticate(authorization, settings, services)
    if isinstance(user, InitDataRefused):
        language = known_language(lang)
    else:
        language = await _desk(application, services).language(user)
    return json_response(
        {
            "language": language,
            "direction": page_direction(language),
            "texts": page_texts(language),
            "authenticated": not isinstance(user, InitDataRefused),
        }
    )


@api.get("/courses")
async def dashboard_courses(
    services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """The courses the user has a role in (only theirs: nobody else's is listed)."""
    user = await signed_in(authorization, settings, services)
    found = await dashboard_of(services).courses(user.user_id)
    return json_response(
        {
            "courses": [
                {
                    "id": item.course.id,
                    "name": item.course.name,
                    "role": item.role.value,
                    "archived": item.course.archived,
                    "roster_size": item.course.roster_size,
                    "may": sorted(p.value for p in GRANTS[item.role]),
                }
                for item in found
            ]
        }
    )


def _rate(value: object) -> float | None:
    return None if value is None else float(str(value))


@api.get("/courses/{course_id}/table")
async def dashboard_table(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """Students × saved sessions: one letter per cell (P, L, E, A; "-" no record) in the
    order of `sessions`; rate and grade when the role may see reports."""
    user = await signed_in(authorization, settings, services)
    table = await dashboard_of(services).table(user.user_id, course_id)
    letter = {
        AttendanceStatus.PRESENT: "P",
        AttendanceStatus.LATE: "L",
        AttendanceStatus.EXCUSED: "E",
        AttendanceStatus.ABSENT: "A",
    }
    students = []
    for row in table.rows:
        s = row.standing
        entry: dict[str, object] = {
            "id": s.student_id,
            "name": s.name,
            "number": s.student_number,
            "enrolled": s.enrolled,
            "cells": "".join("-" if c is None else letter[c] for c in row.statuses),
        }
        if row.grade is not None:
            entry["rate"] = _rate(row.grade.rate)
            entry["grade"] = _rate(row.grade.percent)
        students.append(entry)
    sessions = [
        {
            "id": s.session_id,
            "title": s.title,
            "started_at": s.started_at.isoformat(),
            "rate": round(s.percent, 1) if table.reports else None,
        }
        for s in table.sessions
    ]
    return json_response(
        {
            "course": {"id": table.course.id, "name": table.course.name},
            "role": table.role.value,
            "reports": table.reports,
            "may": sorted(p.value for p in GRANTS[table.role]),
            "sessions": sessions,
            "students": students,
        }
    )


@api.get("/courses/{course_id}/students/{student_id}")
async def dashboard_student(
    course_id: int,
    student_id: int,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """One student: every saved record of the course and every change made to it."""
    user = await signed_in(authorization, settings, services)
    page = await dashboard_of(services).student(user.user_id, course_id, student_id)
    standing = page.standing
    return json_response(
        {
            "student": {
                "id": student_id,
                "name": standing.name if standing else "",
                "number": standing.student_number if standing else None,
            },
            "records": [
                {
                    "session_id": r.session_id,
                    "title": page.titles.get(r.session_id, ""),
                    "started_at": r.session_started_at.isoformat(),
                    "status": r.status.value,
                    "changes": [
                        {
                            "at": c.changed_at.isoformat(),
                            "old": c.old_status.value if c.old_status else None,
                            "new": c.new_status.value,
                        }
                        for c in r.corrections
                    ],
                }
                for r in page.records
            ],
        }
    )


@api.post("/courses/{course_id}/cells")
async def dashboard_correct(
    course_id: int,
    body: CellBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Set one student's status in one session: /mark's service, rules and audit."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.MARK)
    stored = await services.records.sessions.persisted_session(body.session_id)
    live = await services.live.sessions.session(body.session_id) if stored is None else None
    session = stored or live
    if session is None or session.course_id != course_id:
        return error(404, "not_found")
    done = await services.corrections.mark_student(
        user.user_id,
        session_id=body.session_id,
        student_id=body.student_id,
        status_word=body.status.value,
    )
    return json_response(
        {
            "old": done.old.value if done.old else None,
            "new": done.new.value,
        }
    )


router.include_router(api)
router.include_router(actions)
router.include_router(timetable)
