"""The teacher dashboard's timetable: the course's weekly classes, term, skipped days and
times, read and changed through `TimetableService`, the service /timetable's buttons use
(SETTINGS: the owner and co-teachers), with its validation.

    GET    /app/api/teacher/courses/{c}/timetable                     the timetable
    POST   /app/api/teacher/courses/{c}/timetable/slots               add a weekly class
    DELETE /app/api/teacher/courses/{c}/timetable/slots/{day}/{start} remove one
    PUT    /app/api/teacher/courses/{c}/timetable/term                the term's first, last day
    PUT    /app/api/teacher/courses/{c}/timetable/times               opening early, reminder
    PUT    /app/api/teacher/courses/{c}/timetable/holidays/{date}     skip that day's classes
    DELETE /app/api/teacher/courses/{c}/timetable/holidays/{date}     hold them again
    DELETE /app/api/teacher/courses/{c}/timetable/group               unlink the linked group
    POST   /app/api/teacher/courses/{c}/timetable/import              a timetable CSV (raw body)

(Linking a group stays in the chat: /timetable sent in the group, by its teacher.)

Every change answers the timetable as it now is. Input the service refuses (a length out of
range, a term that ends before it starts, a malformed day or time) is a 400 with a short
message, and nothing is saved.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.container import Services
from bot.replies.timetable import import_report
from bot.text import speaking, t
from bot.web.dashboard_http import (
    API_PREFIX,
    AuthHeader,
    DashboardRoute,
    course_for,
    error,
    json_response,
)
from bot.web.deps import ServicesDep, SettingsDep
from bot.web.miniapp import known_language, plain
from services.course_access import Permission
from services.errors import InvalidArgument
from services.models import Course
from services.timetable_slots import (
    MAX_CSV_BYTES,
    SlotRule,
    Timetable,
    parse_clock,
    parse_day,
)

timetable = APIRouter(prefix=API_PREFIX, route_class=DashboardRoute, tags=["dashboard"])

SLOTS = "/courses/{course_id}/timetable/slots"
HOLIDAYS = "/courses/{course_id}/timetable/holidays/{day}"

Weekday = Annotated[int, Path(description="0 = Monday … 6 = Sunday", examples=[0])]
Clock = Annotated[str, Path(max_length=16, description="HH:MM, 24-hour", examples=["10:00"])]
Day = Annotated[str, Path(max_length=16, description="YYYY-MM-DD", examples=["2027-04-01"])]


class SlotBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"weekday": 0, "start": "10:00", "minutes": 90}]},
    )

    weekday: int = Field(description="0 = Monday … 6 = Sunday")
    start: str = Field(max_length=16, description="HH:MM, 24-hour, in the course's zone")
    minutes: int


class TermBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"first_day": "2027-02-01", "last_day": "2027-06-30"}]},
    )

    first_day: str = Field(max_length=16, description="YYYY-MM-DD")
    last_day: str = Field(max_length=16, description="YYYY-MM-DD")


class TimesBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"early_minutes": 5, "remind_minutes": 15}]}
    )

    early_minutes: int = Field(description="open the session this many minutes early")
    remind_minutes: int = Field(description="remind the teacher this many minutes before")


def _clock(text: str) -> time:
    found = parse_clock(text)
    if found is None:
        raise InvalidArgument("timetable", "time")
    return found


def _day(text: str) -> date:
    found = parse_day(text)
    if found is None:
        raise InvalidArgument("timetable", "date")
    return found


async def _answer(services: Services, course: Course, table: Timetable) -> JSONResponse:
    return json_response(await _view(services, course, table))


async def _view(services: Services, course: Course, table: Timetable) -> dict[str, object]:
    """The timetable as the page shows it, with its coming classes."""
    slots = await services.timetables.coming_slots(course.id)
    return {
        "zone": services.timetables.zone(course).key,
        "slots": [
            {"weekday": r.weekday, "start": f"{r.start:%H:%M}", "minutes": r.minutes}
            for r in table.rules
        ],
        "first_day": table.first_day.isoformat(),
        "last_day": table.last_day.isoformat(),
        "holidays": sorted(day.isoformat() for day in table.holidays),
        "early_minutes": table.early_minutes,
        "remind_minutes": table.remind_minutes,
        "group_linked": table.group_chat_id is not None,
        "classes": [
            {"starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()} for s in slots
        ],
    }


@timetable.get("/courses/{course_id}/timetable")
async def dashboard_timetable(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """The course's weekly classes, term, skipped days, times and coming classes."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    course, table = await services.timetables.course_timetable(user.user_id, course_id)
    return await _answer(services, course, table)


@timetable.post(SLOTS)
async def dashboard_add_slot(
    course_id: int,
    body: SlotBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Add a weekly class (one on the same day at the same time is replaced)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    rule = SlotRule(body.weekday, _clock(body.start), body.minutes)
    course, table = await services.timetables.add_slot(user.user_id, course_id, rule)
    return await _answer(services, course, table)


@timetable.delete(SLOTS + "/{weekday}/{start}")
async def dashboard_remove_slot(
    course_id: int,
    weekday: Weekday,
    start: Clock,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """Remove the weekly class on that day at that time (nothing if there is none)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    course, table = await services.timetables.remove_slot(
        user.user_id, course_id, weekday, _clock(start)
    )
    return await _answer(services, course, table)


@timetable.put("/courses/{course_id}/timetable/term")
async def dashboard_set_term(
    course_id: int,
    body: TermBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """The term's first and last day (classes are held only between them)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    first, last = _day(body.first_day), _day(body.last_day)
    course, table = await services.timetables.set_term(user.user_id, course_id, first, last)
    return await _answer(services, course, table)


@timetable.put("/courses/{course_id}/timetable/times")
async def dashboard_set_times(
    course_id: int,
    body: TimesBody,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """How early sessions open and how long before a class the teacher is reminded (both
    checked before either is saved)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    course, table = await services.timetables.set_minutes(
        user.user_id, course_id, early=body.early_minutes, remind=body.remind_minutes
    )
    return await _answer(services, course, table)


@timetable.put(HOLIDAYS)
@timetable.delete(HOLIDAYS)
async def dashboard_holiday(
    course_id: int,
    day: Day,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """PUT: no classes that day; DELETE: they are held again. Already so is no change (a
    repeated request does not flip it back, as the chat's toggle button would)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    skip, when = request.method == "PUT", _day(day)
    course, table = await services.timetables.toggle_holiday(
        user.user_id, course_id, when, skip=skip
    )
    return await _answer(services, course, table)


@timetable.delete("/courses/{course_id}/timetable/group")
async def dashboard_unlink_group(
    course_id: int, services: ServicesDep, settings: SettingsDep, authorization: AuthHeader = None
) -> JSONResponse:
    """The linked group no longer gets the timetabled sessions' cards (the chat's Unlink)."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    course, table = await services.timetables.link_group(user.user_id, course_id, None)
    return await _answer(services, course, table)


@timetable.post("/courses/{course_id}/timetable/import")
async def dashboard_import_timetable(
    course_id: int,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    authorization: AuthHeader = None,
) -> JSONResponse:
    """A timetable CSV sent as the body, read as the chat reads one sent with /timetable:
    the lines it refused are named, and a file with nothing usable changes nothing. The
    answer's `report` is the chat's reply, in the page's language."""
    user, _ = await course_for(authorization, settings, services, course_id, Permission.SETTINGS)
    language = known_language(request.headers.get("accept-language"))
    content = await request.body()
    if len(content) > MAX_CSV_BYTES:
        with speaking(language):
            message = plain(t("timetable.import_not_csv"))
        return error(400, "timetable_file.too_big", message=message)
    result = await services.timetables.import_csv(user.user_id, course_id, content)
    course, table = await services.timetables.course_timetable(user.user_id, course_id)
    with speaking(language):
        report = plain(import_report(course, result))
    view = await _view(services, course, table)
    return json_response({**view, "saved": result.saved, "report": report})
