"""Replies about grading: a course's policy, grades in /history and the report's table."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from bot.text import Text, current_language, join, t
from services.grading import Grade, planned_total
from services.models import Course
from services.ports.grading import AlertTo, GradingPolicy


def number(value: Decimal, pattern: str = "0.##") -> str:
    """A decimal in the reader's notation (`0.8`, `0,8`)."""
    try:
        locale = Locale.parse(current_language().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return format_decimal(value, format=pattern, locale=locale)


def grade_number(grade: Grade) -> str:
    """The grade as the report's phone-wide table shows it: a whole number (half up, like
    the rate beside it; the files have one decimal), "—" while there is none."""
    if grade.percent is None:
        return t("grading.no_grade", html=False)
    return str(grade.percent.to_integral_value(ROUND_HALF_UP))


_ALERT_KEYS = {
    AlertTo.STUDENT: "grading.alert.student",
    AlertTo.TEACHER: "grading.alert.teacher",
    AlertTo.BOTH: "grading.alert.both",
}


def policy_text(course: Course, policy: GradingPolicy) -> Text:
    """A course's grading policy, one rule a line, and how to change it."""
    lines = [
        t("grading.title", course=course.name),
        t(
            "grading.points",
            present=number(policy.present),
            late=number(policy.late),
            absent=number(policy.absent),
        ),
        t("grading.excused_present" if policy.excused_counted else "grading.excused_out"),
    ]
    if not policy.whole_term:
        lines.append(t("grading.to_date"))
    elif policy.planned_sessions is None:
        lines.append(t("grading.term_unknown"))
    else:
        lines.append(t("grading.term", count=policy.planned_sessions))
    if policy.allowed_absences is None:
        lines.append(t("grading.allowed_none"))
    else:
        lines.append(t("grading.allowed", count=policy.allowed_absences))
    lines.append(t("grading.warn", percent=course.warn_below_percent))
    if policy.streak_alert:
        lines.append(t(_ALERT_KEYS[policy.alert_to], count=policy.streak_alert))
    else:
        lines.append(t("grading.alert_off"))
    return join([join(lines), t("grading.change", course=course.name)], "\n\n")


def history_grade(course: Course, policy: GradingPolicy | None, grade: Grade | None) -> Text:
    """What /history adds under a course: the grade and the sessions one can still miss."""
    if grade is None or policy is None:
        return Text("")
    lines = [
        t("grading.history.grade", grade=number(grade.percent, "0.0"))
        if grade.percent is not None
        else t("grading.history.no_grade")
    ]
    threshold = course.warn_below_percent
    allowed_left = (
        None
        if policy.allowed_absences is None
        else max(0, policy.allowed_absences - grade.absences)
    )
    if grade.can_miss == 0:
        lines.append(_no_more_misses(policy, grade, threshold, allowed_left))
    elif grade.can_miss is not None:
        term = planned_total(policy, 0) is not None
        key = "grading.history.can_miss_term" if term else "grading.history.can_miss_next"
        lines.append(t(key, count=grade.can_miss, threshold=threshold))
    return join(lines)


def _no_more_misses(
    policy: GradingPolicy, grade: Grade, threshold: int, allowed_left: int | None
) -> Text:
    """Why the student cannot miss another session, as it stands: over the allowed
    absences, at them, below the warning level already, or one absence away from it."""
    allowed = policy.allowed_absences
    if allowed is not None and grade.absences > allowed:
        return t("grading.history.over_allowed", count=grade.absences, allowed=allowed)
    if allowed is not None and allowed_left == 0:
        return t("grading.history.none_allowed", count=allowed)
    if grade.rate is not None and grade.rate < threshold:
        return t("grading.history.below", threshold=threshold)
    return t("grading.history.no_more", threshold=threshold)
