"""The summary outbox: a saved session's summary owed to its teacher, leased part by part."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.models import (
    AttendanceLine,
    AttendanceStatus,
    SessionSummary,
    StudentStanding,
    SummaryPart,
    UserProfile,
)
from storage.postgres.attendance import COURSE_STANDINGS
from storage.postgres.courses import SELECT_COURSE
from storage.postgres.pool import pg_guard
from storage.postgres.rows import name_from_row, standing_from_row
from storage.postgres.sessions import SELECT_SESSION_FULL

# Only rows that are due: not sent, not final, not leased, and past their back-off. A row
# that failed gets a later `next_attempt_at`, so it never holds up the rows behind it.
# The rows are picked in a materialised CTE, not `WHERE ... IN (SELECT ... LIMIT n FOR UPDATE
# SKIP LOCKED)`: the planner may run such a subquery again for each row it joins, and each run
# picks its own `n` (CI saw 3 claims with a limit of 2).
CLAIM_SUMMARIES = """
WITH due AS MATERIALIZED (
    SELECT session_id FROM summary_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < $1)
      AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    ORDER BY coalesce(next_attempt_at, created_at)
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE summary_outbox o SET claimed_until = $2, attempts = o.attempts + 1
FROM due WHERE o.session_id = due.session_id
RETURNING o.session_id, o.attempts
"""

POSTPONE_SUMMARY = """
UPDATE summary_outbox SET claimed_until = NULL, next_attempt_at = $2, last_error = $3
WHERE session_id = $1 AND sent_at IS NULL
"""

GIVE_UP_SUMMARY = """
UPDATE summary_outbox SET claimed_until = NULL, failed_at = $2, failure = $3, last_error = $4
WHERE session_id = $1 AND sent_at IS NULL
"""

# A teacher's summaries that ended undelivered, leased so that two processes handling two
# messages of the same teacher show each one once.
CLAIM_UNDELIVERED_SUMMARIES = """
UPDATE summary_outbox o SET claimed_until = $3
FROM sessions s
WHERE s.id = o.session_id AND s.teacher_id = $1
  AND o.sent_at IS NULL AND o.failed_at IS NOT NULL AND o.failure <> 'rejected'
  AND (o.claimed_until IS NULL OR o.claimed_until < $2)
RETURNING o.session_id, s.started_at
"""

COUNT_OUTBOX_PENDING = """
SELECT (SELECT count(*) FROM summary_outbox WHERE sent_at IS NULL AND failed_at IS NULL),
       (SELECT count(*) FROM nudge_outbox WHERE sent_at IS NULL AND failed_at IS NULL)
"""

EXTEND_SUMMARY_LEASE = """
UPDATE summary_outbox SET claimed_until = $2 WHERE session_id = $1 AND sent_at IS NULL
"""

# Once: a summary sent again on request (/summary) keeps the time it was first delivered.
MARK_SUMMARY_SENT = """
UPDATE summary_outbox SET sent_at = $2 WHERE session_id = $1 AND sent_at IS NULL
"""

RELEASE_SUMMARY = "UPDATE summary_outbox SET claimed_until = NULL WHERE session_id = $1"

SELECT_SUMMARY_PARTS = "SELECT parts_sent FROM summary_outbox WHERE session_id = $1"

MARK_SUMMARY_PART_SENT = """
UPDATE summary_outbox SET parts_sent = array_append(parts_sent, $2::text)
WHERE session_id = $1 AND NOT ($2::text = ANY (parts_sent))
"""

SELECT_NAME = "SELECT first_name, last_name, username, full_name FROM users WHERE id = $1"

SELECT_SESSION_LINES = """
SELECT a.student_id, a.status, a.checked_in_at,
       u.full_name, u.first_name, u.last_name, u.username
FROM attendance a LEFT JOIN users u ON u.id = a.student_id
WHERE a.session_id = $1
ORDER BY a.checked_in_at NULLS LAST, a.student_id
"""


class PostgresSummaryOutbox:
    """`SummaryOutbox` over PostgreSQL: leased rows, delivered at least once."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_pending_summaries(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[tuple[str, int]]:
        """Lease up to `limit` due summaries, with the attempt each claim is (1 = first).

        A process that dies loses its lease; rows in back-off or final are not claimed.
        """
        async with pg_guard():
            rows = await self._pool.fetch(
                CLAIM_SUMMARIES, now, now + timedelta(seconds=lease_seconds), limit
            )
        return [(row["session_id"], int(row["attempts"])) for row in rows]

    async def claim_undelivered_summaries(
        self, teacher_id: int, now: datetime, lease_seconds: float
    ) -> list[str]:
        """Lease the teacher's summaries that ended undelivered, oldest first."""
        async with pg_guard():
            rows = await self._pool.fetch(
                CLAIM_UNDELIVERED_SUMMARIES,
                teacher_id,
                now,
                now + timedelta(seconds=lease_seconds),
            )
        return [row["session_id"] for row in sorted(rows, key=lambda r: r["started_at"])]

    async def load_summary(self, session_id: str) -> SessionSummary | None:
        async with pg_guard(), self._pool.acquire() as conn:
            session = await conn.fetchrow(SELECT_SESSION_FULL, session_id)
            if session is None:
                return None
            rows = await conn.fetch(SELECT_SESSION_LINES, session_id)
            course_name: str | None = None
            time_zone: str | None = None
            at_risk: list[StudentStanding] = []
            started_by: str | None = None
            if session["course_id"] is not None:
                course = await conn.fetchrow(SELECT_COURSE, session["course_id"])
                course_name = course["name"]
                if course["teacher_id"] != session["teacher_id"]:  # staff started it
                    starter = await conn.fetchrow(SELECT_NAME, session["teacher_id"])
                    started_by = (
                        name_from_row(starter, session["teacher_id"])
                        if starter is not None
                        else UserProfile(session["teacher_id"], "").display_name
                    )
                time_zone = course["time_zone"]
                standings = await conn.fetch(COURSE_STANDINGS, session["course_id"])
                at_risk = [
                    st
                    for st in map(standing_from_row, standings)
                    if st.enrolled
                    and st.sessions >= 3
                    and st.percent < course["warn_below_percent"]
                ]
        return SessionSummary(
            session_id=session["id"],
            teacher_id=session["teacher_id"],
            chat_id=session["chat_id"],
            title=session["title"],
            started_at=session["started_at"],
            ends_at=session["ends_at"],
            lines=[
                AttendanceLine(
                    student_id=row["student_id"],
                    name=name_from_row(row, row["student_id"]),
                    status=AttendanceStatus(row["status"]),
                    checked_in_at=row["checked_in_at"],
                )
                for row in rows
            ],
            course_name=course_name,
            at_risk=at_risk,
            card_chat_id=session["card_chat_id"],
            card_message_id=session["card_message_id"],
            roster_size=session["roster_size"] if session["course_id"] is not None else 0,
            time_zone=time_zone,
            started_by=started_by,
        )

    async def summary_parts_sent(self, session_id: str) -> frozenset[SummaryPart]:
        """The parts of a queued summary Telegram already took (none without a row)."""
        async with pg_guard():
            parts = await self._pool.fetchval(SELECT_SUMMARY_PARTS, session_id)
        return frozenset(part for part in SummaryPart if part.value in (parts or ()))

    async def mark_summary_part_sent(self, session_id: str, part: SummaryPart) -> None:
        """Telegram took this part: a retry of the row skips it."""
        async with pg_guard():
            await self._pool.execute(MARK_SUMMARY_PART_SENT, session_id, part.value)

    async def mark_summary_sent(self, session_id: str, now: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(MARK_SUMMARY_SENT, session_id, now)

    async def extend_summary_lease(self, session_id: str, until: datetime) -> None:
        async with pg_guard():
            await self._pool.execute(EXTEND_SUMMARY_LEASE, session_id, until)

    async def release_summary(self, session_id: str) -> None:
        async with pg_guard():
            await self._pool.execute(RELEASE_SUMMARY, session_id)

    async def postpone_summary(self, session_id: str, at: datetime, error: str) -> None:
        """Release the lease; the row is not due again before `at`."""
        async with pg_guard():
            await self._pool.execute(POSTPONE_SUMMARY, session_id, at, error[:500])

    async def give_up_summary(
        self, session_id: str, *, now: datetime, failure: str, error: str
    ) -> None:
        """Final state: no more attempts (the teacher sees it when they next write)."""
        async with pg_guard():
            await self._pool.execute(GIVE_UP_SUMMARY, session_id, now, failure, error[:500])

    async def outbox_pending(self) -> dict[str, int]:
        """Rows still to be delivered (not sent, not final), by kind."""
        async with pg_guard():
            row = await self._pool.fetchrow(COUNT_OUTBOX_PENDING)
        return {"summary": int(row[0]), "nudge": int(row[1])}
