"""Each course's grading policy (`grading_policies`; no row: the defaults)."""

from __future__ import annotations

import asyncpg

from services.ports.grading import AlertTo, GradingPolicy
from storage.postgres.pool import pg_guard

SELECT_POLICY = """
SELECT present_points, late_points, absent_points, excused_counted, allowed_absences,
       whole_term, planned_sessions, streak_alert, alert_to
FROM grading_policies WHERE course_id = $1
"""

UPSERT_POLICY = """
INSERT INTO grading_policies (
    course_id, present_points, late_points, absent_points, excused_counted, allowed_absences,
    whole_term, planned_sessions, streak_alert, alert_to, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
ON CONFLICT (course_id) DO UPDATE SET
    present_points = EXCLUDED.present_points, late_points = EXCLUDED.late_points,
    absent_points = EXCLUDED.absent_points, excused_counted = EXCLUDED.excused_counted,
    allowed_absences = EXCLUDED.allowed_absences, whole_term = EXCLUDED.whole_term,
    planned_sessions = EXCLUDED.planned_sessions, streak_alert = EXCLUDED.streak_alert,
    alert_to = EXCLUDED.alert_to, updated_at = now()
"""


def policy_from_row(row: asyncpg.Record | None) -> GradingPolicy:
    if row is None:
        return GradingPolicy()
    return GradingPolicy(
        present=row["present_points"],
        late=row["late_points"],
        absent=row["absent_points"],
        excused_counted=row["excused_counted"],
        allowed_absences=row["allowed_absences"],
        whole_term=row["whole_term"],
        planned_sessions=row["planned_sessions"],
        streak_alert=row["streak_alert"],
        alert_to=AlertTo(row["alert_to"]),
    )


class PostgresGradingRecords:
    """`GradingRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def grading_policy(self, course_id: int) -> GradingPolicy:
        async with pg_guard():
            return policy_from_row(await self._pool.fetchrow(SELECT_POLICY, course_id))

    async def set_grading_policy(self, course_id: int, policy: GradingPolicy) -> None:
        async with pg_guard():
            await self._pool.execute(
                UPSERT_POLICY,
                course_id,
                policy.present,
                policy.late,
                policy.absent,
                policy.excused_counted,
                policy.allowed_absences,
                policy.whole_term,
                policy.planned_sessions,
                policy.streak_alert,
                policy.alert_to.value,
            )
