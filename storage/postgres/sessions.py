"""Saved sessions: one sweep writes a session, its records, nudges and outbox row at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from services.models import CheckIn, Session
from storage.postgres.pool import pg_guard
from storage.postgres.rows import session_from_row
from storage.postgres.webhooks import INSERT_WEBHOOK_DELIVERIES

log = logging.getLogger(__name__)

# Check-in times travel in milliseconds; COPY needs datetimes (integer arithmetic: exact).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

# A retry (an earlier sweep of the session may have committed): the whole session in one
# statement, every part `ON CONFLICT DO NOTHING`: the session row, its records (a forgotten
# student's under their pseudonym) and its outbox row. The foreign keys to `sessions` are
# checked at the end of the statement, when the session row exists.
PERSIST_SESSION = """
WITH new_session AS (
    INSERT INTO sessions (id, teacher_id, chat_id, title, started_at, ends_at, late_at,
                          course_id, card_chat_id, card_message_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (id) DO NOTHING
), new_rows AS (
    INSERT INTO attendance (session_id, student_id, status, checked_in_at, distance_m)
    SELECT $1, coalesce(f.pseudonym, t.student_id), t.status,
           to_timestamp(t.checked_in_ms / 1000.0), t.distance_m
    FROM unnest($11::bigint[], $12::text[], $13::bigint[], $14::integer[])
         AS t(student_id, status, checked_in_ms, distance_m)
    LEFT JOIN forgotten_users f ON f.user_id = t.student_id AND f.forgotten_at > $5
    ON CONFLICT (session_id, student_id) DO NOTHING
    RETURNING 1
), outbox AS (
    INSERT INTO summary_outbox (session_id) VALUES ($1) ON CONFLICT (session_id) DO NOTHING
), new_users AS (
    -- Students first seen while PostgreSQL was away have no row yet: the caller fills in
    -- their names from the profile cache. A student forgotten after the session started is
    -- recorded under their pseudonym (above) and gets no row.
    INSERT INTO users (id)
    SELECT t.id FROM unnest($11::bigint[]) AS t(id)
    WHERE NOT EXISTS (
        SELECT 1 FROM forgotten_users f WHERE f.user_id = t.id AND f.forgotten_at > $5
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM new_rows) AS inserted,
       (SELECT coalesce(array_agg(id), '{}') FROM new_users) AS new_users
"""

# A first attempt, before its records are copied in: the session row and the outbox row
# without ON CONFLICT (a session saved before fails here, on the primary key, and the caller
# retries with PERSIST_SESSION), the `users` rows of students first seen while PostgreSQL was
# away, and the pseudonyms of students forgotten since the session started.
PERSIST_SESSION_HEAD = """
WITH new_session AS (
    INSERT INTO sessions (id, teacher_id, chat_id, title, started_at, ends_at, late_at,
                          course_id, card_chat_id, card_message_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
), outbox AS (
    INSERT INTO summary_outbox (session_id) VALUES ($1)
), forgotten AS (
    SELECT f.user_id, f.pseudonym FROM forgotten_users f
    WHERE f.user_id = ANY($11::bigint[]) AND f.forgotten_at > $5
), new_users AS (
    INSERT INTO users (id)
    SELECT t.id FROM unnest($11::bigint[]) AS t(id)
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.id)
      AND NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.user_id = t.id)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM new_users) AS new_users,
       (SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM forgotten) AS forgotten,
       (SELECT coalesce(array_agg(pseudonym ORDER BY user_id), '{}') FROM forgotten)
           AS pseudonyms
"""

ATTENDANCE_COLUMNS = ("session_id", "student_id", "status", "checked_in_at", "distance_m")

# Nudge every enrolled student now below the course threshold after at least 3 sessions,
# unless they were nudged fewer than 3 sessions ago. Runs in the sweep's transaction.
INSERT_NUDGES = """
WITH stats AS (
    SELECT a.student_id,
           count(*) AS sessions,
           count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
           count(*) FILTER (WHERE a.status = 'excused') AS excused
    FROM attendance a
    JOIN sessions s ON s.id = a.session_id
    JOIN enrolments e ON e.course_id = s.course_id AND e.student_id = a.student_id
    WHERE s.course_id = $2
    GROUP BY a.student_id
), at_risk AS (
    SELECT st.student_id, 100.0 * st.attended / (st.sessions - st.excused) AS percent
    FROM stats st, courses c
    WHERE c.id = $2 AND st.sessions >= 3 AND st.sessions > st.excused
      AND 100.0 * st.attended / (st.sessions - st.excused) < c.warn_below_percent
), last_nudge AS (
    SELECT n.student_id, max(s.started_at) AS started_at
    FROM nudge_outbox n JOIN sessions s ON s.id = n.session_id
    WHERE n.course_id = $2
    GROUP BY n.student_id
)
INSERT INTO nudge_outbox (session_id, student_id, course_id, percent)
SELECT $1, r.student_id, $2, round(r.percent, 1)
FROM at_risk r LEFT JOIN last_nudge l ON l.student_id = r.student_id
WHERE r.student_id > 0  -- never a pseudonym (a forgotten student)
  AND NOT EXISTS (SELECT 1 FROM unreachable_users u WHERE u.user_id = r.student_id)
  AND (l.started_at IS NULL
   OR (SELECT count(*) FROM sessions s
       WHERE s.course_id = $2 AND s.started_at > l.started_at) >= 3)
ON CONFLICT (session_id, student_id) DO NOTHING
"""

SELECT_LATEST_SESSION = """
SELECT id, teacher_id, chat_id, title, started_at, ends_at, late_at, course_id
FROM sessions WHERE teacher_id = $1 ORDER BY started_at DESC LIMIT 1
"""

SELECT_SESSION_FULL = """
SELECT id, teacher_id, chat_id, title, started_at, ends_at, late_at, course_id, card_chat_id,
       card_message_id,
       (SELECT count(*) FROM attendance a WHERE a.session_id = sessions.id) AS roster_size
FROM sessions WHERE id = $1
"""


def _session_values(session: Session) -> tuple[object, ...]:
    """The session row's ten parameters, $1 to $10 of both persisting statements."""
    return (
        session.id,
        session.teacher_id,
        session.chat_id,
        session.title,
        session.started_at,
        session.ends_at,
        session.late_at,
        session.course_id,
        session.card_chat_id,
        session.card_message_id,
    )


class PostgresSessionRecords:
    """`SessionRecords` over PostgreSQL: finished sessions, saved once with their check-ins."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def persist_session(
        self, session: Session, checkins: Sequence[CheckIn], *, first_attempt: bool = False
    ) -> tuple[int, list[int]]:
        """Write a session, its records, nudges, its outbox row and its webhook deliveries (one
        per hook of its course) in one transaction.

        A first attempt (`first_attempt`: no earlier sweep of the session can have committed)
        copies the records in with binary `COPY`, several times cheaper than one `INSERT … ON
        CONFLICT` per row. Should the session be saved already after all (the live store lost
        its claim count), that transaction fails on a primary key and rolls back, and the
        retry runs: everything `ON CONFLICT DO NOTHING`, so nothing is added twice. Returns the
        number of attendance rows this call inserted, and the students who had no `users` row
        yet (the caller stores their cached names).
        """
        if first_attempt:
            try:
                return await self._persist_first(session, checkins)
            except asyncpg.exceptions.UniqueViolationError:
                log.warning(
                    "session %s was saved before: persisting it again as a retry", session.id
                )
        return await self._persist_retry(session, checkins)

    async def _persist_first(
        self, session: Session, checkins: Sequence[CheckIn]
    ) -> tuple[int, list[int]]:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow(
                PERSIST_SESSION_HEAD,
                *_session_values(session),
                [c.student_id for c in checkins],
            )
            pseudonyms = dict(zip(head["forgotten"], head["pseudonyms"], strict=True))
            session_id = session.id
            records = [
                (
                    session_id,
                    pseudonyms.get(c.student_id, c.student_id) if pseudonyms else c.student_id,
                    c.status.value,
                    None if c.checked_in_ms is None else _EPOCH + _MILLISECOND * c.checked_in_ms,
                    c.distance_m,
                )
                for c in checkins
            ]
            if records:
                await conn.copy_records_to_table(
                    "attendance", records=records, columns=ATTENDANCE_COLUMNS
                )
            if session.course_id is not None:
                await conn.execute(INSERT_NUDGES, session.id, session.course_id)
                await conn.execute(INSERT_WEBHOOK_DELIVERIES, session.id, session.course_id)
        return len(records), list(head["new_users"])

    async def _persist_retry(
        self, session: Session, checkins: Sequence[CheckIn]
    ) -> tuple[int, list[int]]:
        async with pg_guard(), self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                PERSIST_SESSION,
                *_session_values(session),
                [c.student_id for c in checkins],
                [c.status.value for c in checkins],
                [c.checked_in_ms for c in checkins],
                [c.distance_m for c in checkins],
            )
            if session.course_id is not None:
                await conn.execute(INSERT_NUDGES, session.id, session.course_id)
                await conn.execute(INSERT_WEBHOOK_DELIVERIES, session.id, session.course_id)
        return int(row["inserted"]), list(row["new_users"])

    async def persisted_session(self, session_id: str) -> Session | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_SESSION_FULL, session_id)
        return session_from_row(row) if row else None

    async def latest_session(self, teacher_id: int) -> Session | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_LATEST_SESSION, teacher_id)
        return session_from_row(row) if row else None
