"""Grades from a course's policy, and how many more sessions a student can miss.

Everything is exact: counts are integers, points are `Decimal`s with two places, and the
arithmetic is done on `Fraction`s; only the shown grade is rounded (half up, one decimal).

With P present, L late, E excused, A absent among H sessions held, and the policy's points
p, l, a (present, late, absent):

* counted N = H - E, or H when excused sessions count as present (then E adds E x p);
* grade = (P p + L l + A a [+ E p]) / N x 100 to date; over the whole term the divisor is
  the planned sessions instead of H (at least H), so sessions not held yet count nothing;
* the attendance rate is the same with every attended session worth 1 (late included):
  R = (P + L [+ E]) / N x 100, the measure the course's warning level (T %) applies to;
* sessions one can still miss: to date, the largest k with (P + L [+ E]) / (N + k) >= T/100
  (missing the next k in a row); over the term, with S sessions still to come, the largest
  k <= S with (P + L [+ E] + S - k) / (N + S) >= T/100 (missing k of them, attending the
  rest); and never more than the allowed absences left (allowed - A) when the course caps them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.course_access import CourseAccess, Permission
from services.errors import InvalidArgument
from services.models import Course, StudentStanding
from services.numbers import parse_number
from services.ports.grading import AlertTo, GradingPolicy, GradingRecords
from services.timetable_slots import Timetable, local_instant, slots_between

ALLOWED_ABSENCES = (0, 1000)
PLANNED_SESSIONS = (1, 1000)
STREAK_ALERT = (0, 100)
#: Words that switch an optional setting off (`allowed=none`, `planned=none`, `streak=off`).
NONE_WORDS = frozenset({"none", "off", "no", "-"})


@dataclass(frozen=True, slots=True)
class Grade:
    """One student's grade in one course, as /history, /report and the files show it."""

    #: Rounded half up to one decimal; None while nothing counts yet.
    percent: Decimal | None
    #: The attendance rate the warning level applies to, one decimal; None: nothing counts.
    rate: Decimal | None
    #: Sessions the student can still miss and stay at or above the warning level (and
    #: within the allowed absences); None: no limit (a warning level of 0 and no cap).
    can_miss: int | None
    absences: int


def rounded(value: Fraction) -> Decimal:
    """`value` rounded half up to one decimal, exactly."""
    tenths = (value.numerator * 20 + value.denominator) // (2 * value.denominator)
    return Decimal(tenths).scaleb(-1)


def _points(value: Decimal) -> Fraction:
    return Fraction(value)


def timetable_sessions(timetable: Timetable, zone: ZoneInfo) -> int:
    """How many sessions a course's timetable plans over its whole term (holidays skipped):
    the planned sessions of a grade over the term, when the course has a timetable."""
    start = local_instant(timetable.first_day, time(0, 0), zone)
    end = local_instant(timetable.last_day + timedelta(days=1), time(0, 0), zone)
    return len(slots_between(timetable, zone, start, end))


def planned_total(policy: GradingPolicy, held: int) -> int | None:
    """The term's sessions when the policy grades over the whole term and knows how many are
    planned (never fewer than were held); None: graded to date."""
    if not policy.whole_term or policy.planned_sessions is None:
        return None
    return max(policy.planned_sessions, held)


def grade_of(
    policy: GradingPolicy, standing: StudentStanding, threshold: int, planned: int | None = None
) -> Grade:
    """The grade, the attendance rate and the sessions one can still miss (module doc).

    `planned`: the term's planned sessions when known from elsewhere (a timetable); the
    policy's own `planned_sessions` otherwise.
    """
    if planned is not None and policy.whole_term:
        policy = replace(policy, planned_sessions=planned)
    s = standing
    held = s.sessions
    counted = held if policy.excused_counted else held - s.excused
    attended = s.present + s.late + (s.excused if policy.excused_counted else 0)
    points = (
        s.present * _points(policy.present)
        + s.late * _points(policy.late)
        + s.absent * _points(policy.absent)
        + (s.excused * _points(policy.present) if policy.excused_counted else 0)
    )
    term = planned_total(policy, held)
    still_to_come = 0 if term is None else term - held
    divisor = counted + still_to_come
    percent = rounded(points * 100 / divisor) if divisor > 0 else None
    rate = rounded(Fraction(100 * attended, counted)) if counted > 0 else None
    return Grade(percent, rate, _can_miss(policy, s, attended, counted, term, threshold), s.absent)


def _can_miss(
    policy: GradingPolicy,
    standing: StudentStanding,
    attended: int,
    counted: int,
    term: int | None,
    threshold: int,
) -> int | None:
    by_rate: int | None
    if term is not None:  # over the term: miss k of the S to come, attend the rest
        to_come = term - standing.sessions
        # 100 (attended + S - k) >= T (counted + S), so
        # k <= (100 (attended + S) - T (counted + S)) / 100
        room = 100 * (attended + to_come) - threshold * (counted + to_come)
        by_rate = min(to_come, max(0, room // 100))
    elif threshold == 0:
        by_rate = None
    else:  # to date: miss the next k in a row:  100 attended >= T (counted + k)
        by_rate = max(0, (100 * attended - threshold * counted) // threshold)
    if policy.allowed_absences is None:
        return by_rate
    left = max(0, policy.allowed_absences - standing.absent)
    return left if by_rate is None else min(by_rate, left)


def parse_points(text: str) -> Decimal:
    """Points for a status: 0 to 1 with at most two decimals (`0.8`, `0,75`, `1`).

    Raises:
        InvalidArgument: anything else (field "grading", problem "points").
    """
    word = text.strip().replace(",", ".")
    if not word or len(word) > 6 or not all(ch in "0123456789." for ch in word):
        raise InvalidArgument("grading", "points")
    try:
        value = Decimal(word)
    except InvalidOperation:
        raise InvalidArgument("grading", "points") from None
    if not Decimal(0) <= value <= Decimal(1) or value != value.quantize(Decimal("0.01")):
        raise InvalidArgument("grading", "points")
    return value.quantize(Decimal("0.01"))


#: The words of /grading, each `word=value` (or `word value`).
GRADING_WORDS = (
    "present",
    "late",
    "absent",
    "excused",
    "allowed",
    "basis",
    "planned",
    "streak",
    "alert",
)
_EXCUSED = {"out": False, "excluded": False, "present": True, "counted": True}
_BASIS = {"date": False, "term": True}


def apply_grading_words(policy: GradingPolicy, pairs: list[tuple[str, str]]) -> GradingPolicy:
    """The policy with each `(word, value)` typed after /grading applied, or nothing changed.

    Raises:
        InvalidArgument / NumberOutOfRange: a value out of its range or not one of its
            words: the whole command changes nothing.
    """
    changes: dict[str, object] = {}
    for word, value in pairs:
        lowered = value.strip().lower()
        if word in ("present", "late", "absent"):
            changes[word] = parse_points(value)
        elif word == "excused":
            if lowered not in _EXCUSED:
                raise InvalidArgument("grading", "excused")
            changes["excused_counted"] = _EXCUSED[lowered]
        elif word == "basis":
            if lowered not in _BASIS:
                raise InvalidArgument("grading", "basis")
            changes["whole_term"] = _BASIS[lowered]
        elif word == "alert":
            if lowered not in {a.value for a in AlertTo}:
                raise InvalidArgument("grading", "alert")
            changes["alert_to"] = AlertTo(lowered)
        elif word == "allowed":
            changes["allowed_absences"] = (
                None
                if lowered in NONE_WORDS
                else parse_number(value, "allowed_absences", *ALLOWED_ABSENCES)
            )
        elif word == "planned":
            changes["planned_sessions"] = (
                None
                if lowered in NONE_WORDS
                else parse_number(value, "planned_sessions", *PLANNED_SESSIONS)
            )
        elif word == "streak":
            changes["streak_alert"] = (
                0 if lowered in NONE_WORDS else parse_number(value, "streak_alert", *STREAK_ALERT)
            )
        else:
            raise InvalidArgument("grading", "word")
    return replace(policy, **changes)  # type: ignore[arg-type]


class GradingService:
    """Reads and changes a course's grading policy: whoever may change the course's settings
    (its owner and co-teachers)."""

    def __init__(self, *, grading: GradingRecords, access: CourseAccess) -> None:
        self._grading = grading
        self._access = access

    async def policy(self, course_id: int) -> GradingPolicy:
        """A course's policy, for whoever may already read the course (reports, history)."""
        return await self._grading.grading_policy(course_id)

    async def teacher_policy(self, teacher_id: int, course: Course) -> GradingPolicy:
        """The policy of a course whose settings the user may change.

        Raises:
            NotATeacher, NotYours, NotPermitted: no role, or one that may not.
        """
        await self._access.require(teacher_id, course, Permission.SETTINGS)
        return await self._grading.grading_policy(course.id)

    async def change_policy(
        self, teacher_id: int, course: Course, pairs: list[tuple[str, str]]
    ) -> GradingPolicy:
        """Apply what the teacher typed (all or nothing) and store it.

        Raises:
            NotATeacher, NotYours, NotPermitted: no role, or one that may not.
            InvalidArgument: a value refused (nothing is changed).
        """
        current = await self.teacher_policy(teacher_id, course)
        policy = apply_grading_words(current, pairs)
        if policy != current:
            await self._grading.set_grading_policy(course.id, policy)
        return policy
