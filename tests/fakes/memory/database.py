"""The PostgreSQL tables as plain Python containers, shared by every in-memory record port.

Why one object: the ports are views of one database (a session's outbox row joins its
session; /forgetme touches six tables), so the fakes share rows exactly as the tables do.
Each port method checks `available` first and then changes rows without awaiting, so it is
atomic like the statement or transaction it stands for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.errors import StorageUnavailable
from services.models import (
    AttendanceStatus,
    Preferences,
    StudentStanding,
    SummaryPart,
    UserProfile,
)
from services.ports.excuses import ExcuseRequest
from services.ports.grading import GradingPolicy
from services.timetable_slots import SlotRun, Timetable

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_ms(ms: int | None) -> datetime | None:
    """`to_timestamp(ms / 1000.0)`, exact to the millisecond."""
    return None if ms is None else EPOCH + timedelta(milliseconds=ms)


def now() -> datetime:
    """`now()` for the DEFAULT columns (created_at): wall-clock time, as PostgreSQL's."""
    return datetime.now(UTC)


@dataclass
class SessionRow:
    id: str
    teacher_id: int
    chat_id: int
    title: str
    started_at: datetime
    ends_at: datetime
    late_at: datetime | None
    course_id: int | None
    card_chat_id: int | None
    card_message_id: int | None


@dataclass
class AttendanceRow:
    status: AttendanceStatus
    checked_in_at: datetime | None
    distance_m: int | None = None


@dataclass
class SummaryRow:
    created_at: datetime
    seq: int
    claimed_until: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    failed_at: datetime | None = None
    failure: str | None = None
    last_error: str | None = None
    parts_sent: list[SummaryPart] = field(default_factory=list)


@dataclass
class NudgeRow:
    course_id: int
    percent: Decimal
    created_at: datetime
    seq: int
    claimed_until: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    failed_at: datetime | None = None
    failure: str | None = None
    last_error: str | None = None


@dataclass
class CourseRow:
    id: int
    teacher_id: int
    name: str
    join_code: str
    invite_token: str
    late_after_minutes: int = 10
    warn_below_percent: int = 70
    time_zone: str | None = None
    archived_at: datetime | None = None


@dataclass
class PlaceRow:
    course_id: int
    student_number: str
    full_name: str
    email: str | None
    group_name: str | None
    imported_by: int
    imported_at: datetime
    stand_in: int | None
    claimed_by: int | None = None
    claimed_at: datetime | None = None


@dataclass
class ClaimRow:
    course_id: int
    student_id: int
    student_number: str
    requested_at: datetime


@dataclass
class AlertRow:
    """A row of `absence_alerts` (its key is the dict's)."""

    absences: int
    created_at: datetime
    claimed_until: datetime
    sent_at: datetime | None = None


@dataclass
class AuditRow:
    session_id: str
    student_id: int
    changed_by: int
    changed_at: datetime
    old_status: AttendanceStatus | None
    new_status: AttendanceStatus


@dataclass
class CourseAuditRow:
    course_id: int
    changed_by: int
    changed_at: datetime
    action: str
    old_value: str | None
    new_value: str | None


@dataclass
class InviteRow:
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


@dataclass
class StaffRow:
    role: str
    added_by: int
    added_at: datetime


@dataclass
class StaffInviteRow:
    course_id: int
    role: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


@dataclass
class ApiTokenRow:
    token_hash: str
    course_id: int
    label: str
    scope: str
    created_by: int
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = None


@dataclass
class WebhookRow:
    course_id: int
    url: str
    secret: str
    created_by: int
    created_at: datetime
    failing_since: datetime | None = None


@dataclass
class WebhookNoticeRow:
    hook_id: int
    session_id: str
    kind: str
    attempts: int
    error: str
    created_at: datetime
    sent_at: datetime | None = None


@dataclass
class WebhookOutboxRow:
    session_id: str
    hook_id: int
    event: str = "session.saved"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 0
    claimed_until: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None


@dataclass
class ForgottenRow:
    pseudonym: int
    forgotten_at: datetime


@dataclass
class UnreachableRow:
    reason: str
    since: datetime


@dataclass
class MemoryDatabase:
    """Every table of storage/postgres/migrations/*.sql, keyed by its primary key.

    Dicts keep insertion order, which stands in for PostgreSQL's heap order where a query
    has no ORDER BY (a roster). `available = False` (or `with db.outage():`) makes every
    call raise `StorageUnavailable("PostgreSQL")`, as `storage.postgres.pool.pg_guard` does when
    the server is away; nothing is changed by a refused call.
    """

    users: dict[int, UserProfile] = field(default_factory=dict)
    sessions: dict[str, SessionRow] = field(default_factory=dict)
    attendance: dict[tuple[str, int], AttendanceRow] = field(default_factory=dict)
    summary_outbox: dict[str, SummaryRow] = field(default_factory=dict)
    nudge_outbox: dict[tuple[str, int], NudgeRow] = field(default_factory=dict)
    courses: dict[int, CourseRow] = field(default_factory=dict)
    enrolments: dict[tuple[int, int], datetime] = field(default_factory=dict)
    attendance_audit: dict[int, AuditRow] = field(default_factory=dict)
    course_audit: dict[int, CourseAuditRow] = field(default_factory=dict)
    teachers: dict[int, int] = field(default_factory=dict)  # user_id -> added_by
    teacher_invites: dict[str, InviteRow] = field(default_factory=dict)
    course_staff: dict[tuple[int, int], StaffRow] = field(default_factory=dict)
    course_staff_invites: dict[str, StaffInviteRow] = field(default_factory=dict)
    forgotten_users: dict[int, ForgottenRow] = field(default_factory=dict)
    unreachable_users: dict[int, UnreachableRow] = field(default_factory=dict)
    user_preferences: dict[int, Preferences] = field(default_factory=dict)
    excuse_requests: dict[int, ExcuseRequest] = field(default_factory=dict)
    grading_policies: dict[int, GradingPolicy] = field(default_factory=dict)
    absence_alerts: dict[tuple[int, int, str], AlertRow] = field(default_factory=dict)
    # (teacher, ISO week) -> [claimed_until, sent_at]
    teacher_digests: dict[tuple[int, str], list[datetime | None]] = field(default_factory=dict)
    roster_places: dict[int, PlaceRow] = field(default_factory=dict)
    roster_claims: dict[int, ClaimRow] = field(default_factory=dict)
    timetables: dict[int, Timetable] = field(default_factory=dict)
    timetable_runs: dict[tuple[int, datetime], SlotRun] = field(default_factory=dict)
    api_tokens: dict[int, ApiTokenRow] = field(default_factory=dict)
    course_webhooks: dict[int, WebhookRow] = field(default_factory=dict)
    webhook_outbox: dict[int, WebhookOutboxRow] = field(default_factory=dict)
    webhook_notices: dict[int, WebhookNoticeRow] = field(default_factory=dict)
    available: bool = True
    course_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    audit_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    course_audit_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    seqs: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    excuse_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    place_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    claim_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    api_token_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    webhook_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    webhook_outbox_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    webhook_notice_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def check(self) -> None:
        """Raise what the PostgreSQL store raises when the server cannot be reached."""
        if not self.available:
            raise StorageUnavailable("PostgreSQL")

    @contextmanager
    def outage(self) -> Iterator[None]:
        """PostgreSQL is away inside the block."""
        self.available = False
        try:
            yield
        finally:
            self.available = True

    # --- what several ports read (the joins of storage/postgres/) ------------------------

    def name_of(self, student_id: int) -> str:
        """`_name_from_row` over `LEFT JOIN users`: a missing row reads as "user <id>"."""
        user = self.users.get(student_id)
        if user is None:
            return UserProfile(user_id=student_id, first_name="").display_name
        return UserProfile(
            user_id=student_id,
            first_name=user.first_name or "",
            last_name=user.last_name,
            username=user.username,
            full_name=user.full_name,
        ).display_name

    def members(self, course_id: int) -> list[int]:
        """The roster query: enrolled students, then stand-ins of unclaimed places."""
        enrolled = [s for c, s in self.enrolments if c == course_id]
        return enrolled + [
            p.stand_in
            for p in self.roster_places.values()
            if p.course_id == course_id and p.stand_in is not None
        ]

    def roster_size(self, course_id: int) -> int:
        return len(self.members(course_id))

    def course_standings(self, course_id: int) -> list[StudentStanding]:
        """COURSE_STANDINGS: one row per enrolled student, then per student removed or gone
        with records in the course (not a forgotten person's negative pseudonym), counting
        the course's records."""
        course_sessions = {s.id for s in self.sessions.values() if s.course_id == course_id}
        enrolled = set(self.members(course_id))
        former = {
            student
            for (sid, student) in self.attendance
            if sid in course_sessions and student > 0 and student not in enrolled
        }
        standings: list[tuple[tuple[bool, str, int], StudentStanding]] = []
        for student in enrolled | former:
            statuses = [
                row.status
                for (sid, st), row in self.attendance.items()
                if st == student and sid in course_sessions
            ]
            user = self.users.get(student)
            standing = StudentStanding(
                student_id=student,
                name=self.name_of(student),
                student_number=user.student_number if user else None,
                sessions=len(statuses),
                present=statuses.count(AttendanceStatus.PRESENT),
                late=statuses.count(AttendanceStatus.LATE),
                excused=statuses.count(AttendanceStatus.EXCUSED),
                absent=statuses.count(AttendanceStatus.ABSENT),
                enrolled=student in enrolled,
            )
            # lower(coalesce(full_name, first_name, '')): an empty full name is not NULL.
            sort_name = (
                ""
                if user is None
                else (user.full_name if user.full_name is not None else user.first_name)
            )
            standings.append(((student not in enrolled, sort_name.lower(), student), standing))
        return [standing for _, standing in sorted(standings, key=lambda pair: pair[0])]
