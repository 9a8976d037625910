"""The nudge outbox: warnings owed to students below their course's threshold."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.models import Nudge
from storage.postgres.pool import pg_guard

# Picked in a materialised CTE (see storage/postgres/summaries.py CLAIM_SUMMARIES).
CLAIM_NUDGES = """
WITH due AS MATERIALIZED (
    SELECT session_id, student_id FROM nudge_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < $1)
      AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    ORDER BY coalesce(next_attempt_at, created_at)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE nudge_outbox n SET claimed_until = $2, attempts = n.attempts + 1
FROM due, courses c
WHERE n.session_id = due.session_id AND n.student_id = due.student_id AND c.id = n.course_id
RETURNING n.session_id, n.student_id, c.name, n.percent, c.warn_below_percent, n.attempts
"""

# A student who switched nudges off in /settings is not written to: their pending rows end
# before the claim, as an unreachable user's do, so the claim never hands them out.
SKIP_OPTED_OUT = """
UPDATE nudge_outbox n SET failed_at = $1, failure = 'opted_out'
FROM user_preferences p
WHERE p.user_id = n.student_id AND NOT p.nudges
  AND n.sent_at IS NULL AND n.failed_at IS NULL
"""

POSTPONE_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL, next_attempt_at = $3, last_error = $4
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""

GIVE_UP_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL, failed_at = $3, failure = $4, last_error = $5
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""

MARK_NUDGE_SENT = """
UPDATE nudge_outbox SET sent_at = $3 WHERE session_id = $1 AND student_id = $2
"""

RELEASE_NUDGE = """
UPDATE nudge_outbox SET claimed_until = NULL WHERE session_id = $1 AND student_id = $2
"""

EXTEND_NUDGE_LEASE = """
UPDATE nudge_outbox SET claimed_until = $3
WHERE session_id = $1 AND student_id = $2 AND sent_at IS NULL
"""


class PostgresNudgeOutbox:
    """`NudgeOutbox` over PostgreSQL: leased rows, delivered at least once."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_pending_nudges(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[Nudge]:
        async with pg_guard():
            await self._pool.execute(SKIP_OPTED_OUT, now)
            rows = await self._pool.fetch(
                CLAIM_NUDGES, now, now + timedelta(seconds=lease_seconds), limit
            )
        return [
            Nudge(
                r["session_id"],
                r["student_id"],
                r["name"],
                float(r["percent"]),
                r["warn_below_percent"],
                int(r["attempts"]),
            )
            for r in rows
        ]

    async def mark_nudge_sent(self, nudge: Nudge, now: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(MARK_NUDGE_SENT, nudge.session_id, nudge.student_id, now)

    async def extend_nudge_lease(self, nudge: Nudge, until: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(EXTEND_NUDGE_LEASE, nudge.session_id, nudge.student_id, until)

    async def release_nudge(self, nudge: Nudge) -> None:
        async with pg_guard():
            await self._pool.execute(RELEASE_NUDGE, nudge.session_id, nudge.student_id)

    async def postpone_nudge(self, nudge: Nudge, at: datetime, error: str) -> None:
        async with pg_guard():
            await self._pool.execute(
                POSTPONE_NUDGE, nudge.session_id, nudge.student_id, at, error[:500]
            )

    async def give_up_nudge(self, nudge: Nudge, *, now: datetime, failure: str, error: str) -> None:
        async with pg_guard():
            await self._pool.execute(
                GIVE_UP_NUDGE, nudge.session_id, nudge.student_id, now, failure, error[:500]
            )
