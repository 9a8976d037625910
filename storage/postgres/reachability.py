"""Who blocked the bot or never opened it, and ending the messages queued for them."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.postgres.pool import pg_guard

# Rows queued to someone the bot knows it cannot reach end at once, without a request.
GIVE_UP_UNREACHABLE_SUMMARIES = """
UPDATE summary_outbox o SET failed_at = $1, failure = 'unreachable', last_error = u.reason
FROM sessions s, unreachable_users u
WHERE s.id = o.session_id AND u.user_id = s.teacher_id
  AND o.sent_at IS NULL AND o.failed_at IS NULL
  AND (o.claimed_until IS NULL OR o.claimed_until < $1)
RETURNING o.session_id
"""

GIVE_UP_UNREACHABLE_NUDGES = """
UPDATE nudge_outbox n SET failed_at = $1, failure = 'unreachable', last_error = u.reason
FROM unreachable_users u
WHERE u.user_id = n.student_id
  AND n.sent_at IS NULL AND n.failed_at IS NULL
  AND (n.claimed_until IS NULL OR n.claimed_until < $1)
RETURNING n.session_id
"""

SET_UNREACHABLE = """
INSERT INTO unreachable_users (user_id, reason, since) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason
"""

SET_REACHABLE = "DELETE FROM unreachable_users WHERE user_id = $1"

# Who may need attention when they write: users the bot cannot reach, and teachers with a
# summary that ended undelivered.
SELECT_AWAITED_USERS = """
SELECT user_id FROM unreachable_users
UNION
SELECT s.teacher_id FROM summary_outbox o JOIN sessions s ON s.id = o.session_id
WHERE o.sent_at IS NULL AND o.failed_at IS NOT NULL AND o.failure <> 'rejected'
"""


class PostgresReachability:
    """`Reachability` over PostgreSQL: unreachable users and the outbox rows that wait for them."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set_unreachable(self, user_id: int, reason: str, now: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(SET_UNREACHABLE, user_id, reason[:200], now)

    async def set_reachable(self, user_id: int) -> None:
        async with pg_guard():
            await self._pool.execute(SET_REACHABLE, user_id)

    async def awaited_users(self) -> set[int]:
        """Users unreachable, and teachers with an undelivered summary to show them."""
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_AWAITED_USERS)
        return {int(row[0]) for row in rows}

    async def give_up_unreachable(self, now: datetime) -> dict[str, int]:
        """End every queued row addressed to a user known to be unreachable; counts by kind."""
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            summaries = await conn.fetch(GIVE_UP_UNREACHABLE_SUMMARIES, now)
            nudges = await conn.fetch(GIVE_UP_UNREACHABLE_NUDGES, now)
        return {"summary": len(summaries), "nudge": len(nudges)}
