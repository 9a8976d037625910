"""What /history says when a student cannot miss another session: each reason worded as it
stands (over the allowed absences, at them, below the warning level, one absence away), in
English and in Spanish."""

from __future__ import annotations

import pytest

from bot.replies.grading import history_grade
from bot.text import speaking
from services.grading import grade_of
from services.models import Course, StudentStanding
from services.ports.grading import GradingPolicy

COURSE = Course(1, 7, "Biology", "ABCDEFGH", "join_x", warn_below_percent=70)


def said(present: int, absent: int, allowed: int | None, language: str = "en") -> str:
    standing = StudentStanding(5, "Ada", None, present + absent, present, 0, 0, absent)
    policy = GradingPolicy(allowed_absences=allowed)
    with speaking(language):
        return str(history_grade(COURSE, policy, grade_of(policy, standing, 70))).splitlines()[-1]


@pytest.mark.parametrize(
    ("present", "absent", "allowed", "expected"),
    [
        (0, 3, 2, "⚠️ You have missed 3 sessions, more than the 2 allowed"),
        (8, 2, 2, "⚠️ You have used all 2 absences allowed"),
        (1, 2, None, "⚠️ Your attendance is below 70% already"),
        (7, 3, None, "⚠️ Missing one more session would take you below 70%"),
        (1, 2, 5, "⚠️ Your attendance is below 70% already"),
    ],
)
def test_why_no_more_sessions_can_be_missed(
    present: int, absent: int, allowed: int | None, expected: str
) -> None:
    assert said(present, absent, allowed) == expected


def test_in_spanish() -> None:
    assert said(0, 3, 2, "es") == "⚠️ Has faltado a 3 sesiones; el máximo permitido es 2"
    assert said(1, 2, None, "es") == "⚠️ Tu asistencia ya está por debajo del 70%"
