"""The JSON the REST API answers (pydantic models, so the OpenAPI document describes
every field), and the conversions from the services' rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.api import (
    Standings,
)
from services.models import AttendanceStatus, Course
from services.ports.api import ApiRecordRow, ApiSessionRow
from services.roster_file import RejectReason
from services.webhooks import PING, SESSION_SAVED, Ping, SessionSaved

# --- the JSON the API answers ----------------------------------------------------------------


class ErrorDetail(BaseModel):
    status: int = Field(description="The HTTP status, again.")
    code: str = Field(description="Stable, for programs: e.g. `token_refused`, `not_found`.")
    message: str = Field(description="For people, in English.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class CourseOut(BaseModel):
    id: int
    name: str
    time_zone: str | None = Field(description="IANA zone; null: the installation's zone.")
    archived: bool
    roster_size: int = Field(description="Enrolled students and unclaimed roster places.")
    late_after_minutes: int
    warn_below_percent: int


class CourseList(BaseModel):
    items: list[CourseOut] = Field(description="The token's course (one).")


class SessionOut(BaseModel):
    id: str
    title: str
    started_at: datetime
    ends_at: datetime
    present: int
    late: int
    excused: int
    absent: int
    attendance_percent: float = Field(
        description="(present + late) / (all − excused) × 100; 100 when nothing counts."
    )


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


class CorrectionOut(BaseModel):
    changed_at: datetime
    old_status: AttendanceStatus | None
    new_status: AttendanceStatus


class RecordOut(BaseModel):
    session_id: str
    session_started_at: datetime
    student_number: str | None
    name: str | None
    status: AttendanceStatus
    checked_in_at: datetime | None = Field(description="Null when not checked in.")
    corrections: list[CorrectionOut] = Field(description="Manual changes, oldest first.")


class RecordPage(BaseModel):
    items: list[RecordOut]
    next_cursor: str | None


class PolicyOut(BaseModel):
    present_points: float
    late_points: float
    absent_points: float
    excused_counted: bool
    allowed_absences: int | None
    whole_term: bool
    planned_sessions: int | None
    warn_below_percent: int


class GradeOut(BaseModel):
    student_number: str | None
    name: str | None
    enrolled: bool = Field(description="False: removed or left; records kept.")
    sessions: int
    present: int
    late: int
    excused: int
    absent: int
    rate_percent: float | None = Field(description="Attendance rate; null: nothing counts yet.")
    grade_percent: float | None = Field(description="Under the policy; null: nothing counts.")
    can_miss: int | None = Field(description="Sessions still missable; null: no limit.")


class GradePage(BaseModel):
    policy: PolicyOut
    items: list[GradeOut]
    next_cursor: str | None


class RejectedLine(BaseModel):
    line: int
    reason: RejectReason


class RosterImportOut(BaseModel):
    added: int = Field(description="New places.")
    already_there: int = Field(description="Numbers already on the roster, left alone.")
    linked: int = Field(description="Enrolled students given the place of their number.")
    rejected: list[RejectedLine]
    roster_size: int


def course_out(course: Course) -> CourseOut:
    return CourseOut(
        id=course.id,
        name=course.name,
        time_zone=course.time_zone,
        archived=course.archived,
        roster_size=course.roster_size,
        late_after_minutes=course.late_after_minutes,
        warn_below_percent=course.warn_below_percent,
    )


def session_out(row: ApiSessionRow) -> SessionOut:
    counted = row.present + row.late + row.absent
    return SessionOut(
        id=row.id,
        title=row.title,
        started_at=row.started_at,
        ends_at=row.ends_at,
        present=row.present,
        late=row.late,
        excused=row.excused,
        absent=row.absent,
        attendance_percent=100.0 if counted == 0 else 100.0 * (row.present + row.late) / counted,
    )


def record_out(row: ApiRecordRow) -> RecordOut:
    return RecordOut(
        session_id=row.session_id,
        session_started_at=row.session_started_at,
        student_number=row.student_number,
        name=row.name,
        status=row.status,
        checked_in_at=row.checked_in_at,
        corrections=[
            CorrectionOut(changed_at=c.changed_at, old_status=c.old_status, new_status=c.new_status)
            for c in row.corrections
        ],
    )


def _plain_name(name: str, student_id: int) -> str | None:
    """A report's name without the fallbacks that would show a username or an id."""
    if name.startswith("@") or name == f"user {student_id}":
        return None
    return name


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


def grade_page(standings: Standings) -> GradePage:
    """A page of rates and grades, with the policy that graded them."""
    policy = standings.policy
    items = [
        GradeOut(
            student_number=g.standing.student_number,
            name=_plain_name(g.standing.name, g.standing.student_id),
            enrolled=g.standing.enrolled,
            sessions=g.standing.sessions,
            present=g.standing.present,
            late=g.standing.late,
            excused=g.standing.excused,
            absent=g.standing.absent,
            rate_percent=_float(g.grade.rate),
            grade_percent=_float(g.grade.percent),
            can_miss=g.grade.can_miss,
        )
        for g in standings.page.items
    ]
    return GradePage(
        policy=PolicyOut(
            present_points=float(policy.present),
            late_points=float(policy.late),
            absent_points=float(policy.absent),
            excused_counted=policy.excused_counted,
            allowed_absences=policy.allowed_absences,
            whole_term=policy.whole_term,
            planned_sessions=policy.planned_sessions,
            warn_below_percent=standings.threshold,
        ),
        items=items,
        next_cursor=standings.page.next_cursor,
    )


# --- the outgoing webhook's body (the same shapes as the API's answers) ----------------------


class SessionSavedOut(BaseModel):
    """`X-ATTN-Event: session.saved`: a session was saved, with every record of it."""

    event: str = Field(description="`session.saved`.")
    delivery_id: str = Field(description="The same on every retry of this delivery.")
    course_id: int
    session: SessionOut
    records: list[RecordOut]


class PingOut(BaseModel):
    """`X-ATTN-Event: ping`: the test event the owner sends from the bot."""

    event: str
    course_id: int
    sent_at: datetime


def webhook_body(event: SessionSaved | Ping) -> bytes:
    """The JSON a webhook delivery carries (compact UTF-8; signed as these exact bytes)."""
    if isinstance(event, Ping):
        body: BaseModel = PingOut(event=PING, course_id=event.course_id, sent_at=event.sent_at)
    else:
        body = SessionSavedOut(
            event=SESSION_SAVED,
            delivery_id=str(event.delivery_id),
            course_id=event.course_id,
            session=session_out(event.session),
            records=[record_out(r) for r in event.records],
        )
    return body.model_dump_json().encode("utf-8")
