"""GradingRecords: the same assertions on PostgreSQL and in memory."""

from __future__ import annotations

from decimal import Decimal

from services.ports import RecordStores
from services.ports.grading import AlertTo, GradingPolicy


async def test_a_course_without_a_policy_has_the_defaults_and_keeps_what_is_set(
    records: RecordStores,
) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    assert await records.grading.grading_policy(course.id) == GradingPolicy()
    policy = GradingPolicy(
        present=Decimal("0.95"),
        late=Decimal("0.5"),
        absent=Decimal("0.1"),
        excused_counted=True,
        allowed_absences=3,
        whole_term=True,
        planned_sessions=16,
        streak_alert=0,
        alert_to=AlertTo.TEACHER,
    )
    await records.grading.set_grading_policy(course.id, policy)
    assert await records.grading.grading_policy(course.id) == policy
    back = GradingPolicy(allowed_absences=None, planned_sessions=None)
    await records.grading.set_grading_policy(course.id, back)
    assert await records.grading.grading_policy(course.id) == back
