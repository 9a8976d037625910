"""A course's grading policy, and the records behind the early warnings (issue 13, 5 and 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class AlertTo(StrEnum):
    """Who is told when a student misses `streak_alert` sessions in a row."""

    STUDENT = "student"
    TEACHER = "teacher"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class GradingPolicy:
    """How a course turns statuses into a grade, and when it warns.

    Points are between 0 and 1 with two decimals (what one session is worth). Excused
    sessions are left out of the count, or (`excused_counted`) count as present.
    `allowed_absences` caps how many sessions a student may miss in the term (None: no cap).
    `whole_term`: the grade is over the term's planned sessions (those not held yet count
    nothing), else over the sessions held to date. `streak_alert`: absences in a row that
    raise an alert (0: none).
    """

    present: Decimal = Decimal("1")
    late: Decimal = Decimal("0.8")
    absent: Decimal = Decimal("0")
    excused_counted: bool = False
    allowed_absences: int | None = None
    whole_term: bool = False
    planned_sessions: int | None = None
    streak_alert: int = 3
    alert_to: AlertTo = AlertTo.BOTH


@dataclass(frozen=True, slots=True)
class AbsenceStreak:
    """A student's latest sessions of a course were all absences, `absences` of them, the
    first being `streak_start` (a session id): what an alert is keyed by."""

    course_id: int
    student_id: int
    streak_start: str
    absences: int


class GradingRecords(Protocol):
    """Each course's grading policy (no row: the defaults)."""

    async def grading_policy(self, course_id: int) -> GradingPolicy: ...
    async def set_grading_policy(self, course_id: int, policy: GradingPolicy) -> None: ...


class WarningRecords(Protocol):
    """What the early warnings read, and the leased rows that make each one leave once.

    A claim returns True to the one caller that should send now: the first, or a later one
    after `until` of an unsent claim has passed (its sender died); never after `sent`.
    """

    async def absence_streaks(self) -> list[AbsenceStreak]: ...
    async def claim_absence_alert(
        self, streak: AbsenceStreak, *, now: datetime, until: datetime
    ) -> bool: ...
    async def absence_alert_sent(self, streak: AbsenceStreak, *, now: datetime) -> None: ...
    async def claim_digest(
        self, teacher_id: int, *, week: str, now: datetime, until: datetime
    ) -> bool: ...
    async def digest_sent(self, teacher_id: int, *, week: str, now: datetime) -> None: ...
    async def digest_teachers(self) -> list[int]: ...
    async def alerts_wanted(self, user_ids: list[int]) -> set[int]: ...


@dataclass(frozen=True, slots=True)
class AbsenceAlert:
    """What one recipient is told about a streak: the student themself, or the teacher."""

    recipient: int
    course_name: str
    absences: int
    student_name: str | None = None  # set for the teacher's alert


@dataclass(frozen=True, slots=True)
class DigestCourse:
    """One course's part of a teacher's weekly digest."""

    course_name: str
    #: (name, rate in %) of students below the warning level, after 3 sessions at least.
    at_risk: list[tuple[str, int]]
    #: Names of imported roster places nobody claimed yet.
    unclaimed: list[str]
    #: (session start, title, rate in %) of last week's sessions with unusually low turnout.
    low_sessions: list[tuple[datetime, str, int]]
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """A teacher's weekly digest: one part per active course they own."""

    teacher_id: int
    week: str
    courses: list[DigestCourse]


class AlertSender(Protocol):
    """Delivers alerts and digests (the bot layer implements it); raises
    `services.delivery.DeliveryFailed` when Telegram refused the message."""

    async def send_absence_alert(self, alert: AbsenceAlert) -> None: ...
    async def send_digest(self, digest: Digest) -> None: ...
