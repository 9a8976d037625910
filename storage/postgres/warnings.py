"""Early warnings: absence streaks, and the leased rows that send each alert and digest once."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.ports.grading import AbsenceStreak
from storage.postgres.pool import pg_guard

# Each enrolled student's latest records in each active course, newest first; the run of
# absences at the top is the current streak (any other status ends it). Roster places nobody
# claimed (negative stand-ins) are left out: the weekly digest names them instead.
SELECT_STREAKS = """
WITH ordered AS (
    SELECT s.course_id, a.student_id, s.id AS session_id, a.status,
           row_number() OVER (
               PARTITION BY s.course_id, a.student_id ORDER BY s.started_at DESC, s.id DESC
           ) AS rn
    FROM attendance a
    JOIN sessions s ON s.id = a.session_id
    JOIN courses c ON c.id = s.course_id AND c.archived_at IS NULL
    JOIN enrolments e ON e.course_id = s.course_id AND e.student_id = a.student_id
    LEFT JOIN grading_policies g ON g.course_id = c.id
    WHERE a.student_id > 0 AND coalesce(g.streak_alert, 3) > 0
),
stops AS (
    SELECT course_id, student_id, min(rn) FILTER (WHERE status <> 'absent') AS stop
    FROM ordered GROUP BY course_id, student_id
)
SELECT o.course_id, o.student_id, count(*) AS absences,
       (array_agg(o.session_id ORDER BY o.rn DESC))[1] AS streak_start
FROM ordered o
JOIN stops t ON t.course_id = o.course_id AND t.student_id = o.student_id
LEFT JOIN grading_policies g ON g.course_id = o.course_id
WHERE o.rn < coalesce(t.stop, 2147483647)
GROUP BY o.course_id, o.student_id, g.streak_alert
HAVING count(*) >= coalesce(g.streak_alert, 3)
ORDER BY o.course_id, o.student_id
"""

# The first caller inserts the row; a later one takes it over only while unsent and after
# the lease (its sender died): one statement, so two processes never both get a row.
CLAIM_ALERT = """
INSERT INTO absence_alerts (course_id, student_id, streak_start, absences, created_at,
                            claimed_until)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (course_id, student_id, streak_start) DO UPDATE
SET claimed_until = EXCLUDED.claimed_until
WHERE absence_alerts.sent_at IS NULL AND absence_alerts.claimed_until < EXCLUDED.created_at
RETURNING 1
"""

MARK_ALERT_SENT = """
UPDATE absence_alerts SET sent_at = $4
WHERE course_id = $1 AND student_id = $2 AND streak_start = $3
"""

CLAIM_DIGEST = """
INSERT INTO teacher_digests (teacher_id, iso_week, claimed_until) VALUES ($1, $2, $4)
ON CONFLICT (teacher_id, iso_week) DO UPDATE SET claimed_until = EXCLUDED.claimed_until
WHERE teacher_digests.sent_at IS NULL AND teacher_digests.claimed_until < $3
RETURNING 1
"""

MARK_DIGEST_SENT = "UPDATE teacher_digests SET sent_at = $3 WHERE teacher_id = $1 AND iso_week = $2"

SELECT_DIGEST_TEACHERS = (
    "SELECT DISTINCT teacher_id FROM courses WHERE archived_at IS NULL ORDER BY teacher_id"
)

SELECT_ALERTS_WANTED = """
SELECT u.id FROM unnest($1::bigint[]) AS u (id)
WHERE NOT EXISTS (SELECT 1 FROM user_preferences p WHERE p.user_id = u.id AND NOT p.alerts)
"""


class PostgresWarningRecords:
    """`WarningRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def absence_streaks(self) -> list[AbsenceStreak]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_STREAKS)
        return [
            AbsenceStreak(r["course_id"], r["student_id"], r["streak_start"], int(r["absences"]))
            for r in rows
        ]

    async def claim_absence_alert(
        self, streak: AbsenceStreak, *, now: datetime, until: datetime
    ) -> bool:
        async with pg_guard():
            row = await self._pool.fetchval(
                CLAIM_ALERT,
                streak.course_id,
                streak.student_id,
                streak.streak_start,
                streak.absences,
                now,
                until,
            )
        return row is not None

    async def absence_alert_sent(self, streak: AbsenceStreak, *, now: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(
                MARK_ALERT_SENT, streak.course_id, streak.student_id, streak.streak_start, now
            )

    async def claim_digest(
        self, teacher_id: int, *, week: str, now: datetime, until: datetime
    ) -> bool:
        async with pg_guard():
            row = await self._pool.fetchval(CLAIM_DIGEST, teacher_id, week, now, until)
        return row is not None

    async def digest_sent(self, teacher_id: int, *, week: str, now: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(MARK_DIGEST_SENT, teacher_id, week, now)

    async def digest_teachers(self) -> list[int]:
        async with pg_guard():
            return [r["teacher_id"] for r in await self._pool.fetch(SELECT_DIGEST_TEACHERS)]

    async def alerts_wanted(self, user_ids: list[int]) -> set[int]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_ALERTS_WANTED, user_ids)
        return {r["id"] for r in rows}
