"""In-memory `GradingRecords`: one policy per course, the defaults without one."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from services.ports.grading import GradingPolicy
from tests.fakes.memory.database import MemoryDatabase


def _two_places(value: Decimal) -> Decimal:
    """numeric(3, 2): what PostgreSQL gives back."""
    return value.quantize(Decimal("0.01"))


class MemoryGradingRecords:
    """`grading_policies` as a dict; a course deleted takes its policy (ON DELETE CASCADE)."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def grading_policy(self, course_id: int) -> GradingPolicy:
        self._db.check()
        policy = self._db.grading_policies.get(course_id)
        if policy is None or course_id not in self._db.courses:
            return GradingPolicy()
        return policy

    async def set_grading_policy(self, course_id: int, policy: GradingPolicy) -> None:
        self._db.check()
        if course_id not in self._db.courses:
            raise ValueError(f"no course {course_id}")  # the foreign key
        self._db.grading_policies[course_id] = replace(
            policy,
            present=_two_places(policy.present),
            late=_two_places(policy.late),
            absent=_two_places(policy.absent),
        )
