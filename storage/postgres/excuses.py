"""Excuse requests: stored with the reason and Telegram's file id, decided once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.models import AttendanceStatus
from services.ports.excuses import (
    Attachment,
    DocumentKind,
    ExcuseRequest,
    ExcuseState,
    ExcuseTarget,
    SavedRecord,
)
from storage.postgres.pool import pg_guard

# The partial unique index (one pending request per student and session) refuses a second.
INSERT_REQUEST = """
INSERT INTO excuse_requests (course_id, session_id, session_title, session_started_at,
                             student_id, reason, file_id, file_kind, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (session_id, student_id) WHERE state = 'pending' DO NOTHING
RETURNING *
"""

SELECT_REQUEST = "SELECT * FROM excuse_requests WHERE id = $1"

# One conditional UPDATE: of two taps (or two teachers) exactly one finds it pending.
DECIDE = """
UPDATE excuse_requests SET state = $2, decided_by = $3, decided_at = $4
WHERE id = $1 AND state = 'pending'
RETURNING *
"""

REOPEN = """
UPDATE excuse_requests SET state = 'pending', decided_by = NULL, decided_at = NULL
WHERE id = $1 AND state = 'approved' AND decided_by = $2
"""

SELECT_PENDING = """
SELECT * FROM excuse_requests
WHERE course_id = ANY($1::bigint[]) AND state = 'pending'
ORDER BY created_at, id
"""

SELECT_PREMARKS = """
SELECT * FROM excuse_requests
WHERE state = 'approved' AND session_id LIKE 'slot:%'
ORDER BY session_started_at, id
"""

MOVE_REQUEST = """
UPDATE excuse_requests SET session_id = $3 WHERE id = $1 AND session_id = $2 RETURNING id
"""

SELECT_SAVED_RECORDS = """
SELECT s.id, s.title, s.started_at, a.status
FROM attendance a JOIN sessions s ON s.id = a.session_id
WHERE s.course_id = $1 AND a.student_id = $2
ORDER BY s.started_at DESC, s.id
"""


def request_from_row(row: asyncpg.Record) -> ExcuseRequest:
    kind = row["file_kind"]
    return ExcuseRequest(
        id=row["id"],
        target=ExcuseTarget(
            row["session_id"], row["course_id"], row["session_title"], row["session_started_at"]
        ),
        student_id=row["student_id"],
        reason=row["reason"],
        attachment=Attachment(row["file_id"], DocumentKind(kind)) if kind else None,
        state=ExcuseState(row["state"]),
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


class PostgresExcuseRecords:
    """`ExcuseRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_request(
        self,
        target: ExcuseTarget,
        *,
        student_id: int,
        reason: str,
        attachment: Attachment | None,
        now: datetime,
    ) -> ExcuseRequest | None:
        async with pg_guard():
            row = await self._pool.fetchrow(
                INSERT_REQUEST,
                target.course_id,
                target.session_id,
                target.title,
                target.started_at,
                student_id,
                reason,
                attachment.file_id if attachment else None,
                attachment.kind.value if attachment else None,
                now,
            )
        return request_from_row(row) if row else None

    async def request(self, request_id: int) -> ExcuseRequest | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_REQUEST, request_id)
        return request_from_row(row) if row else None

    async def decide(
        self, request_id: int, *, approve: bool, decided_by: int, now: datetime
    ) -> ExcuseRequest | None:
        state = ExcuseState.APPROVED if approve else ExcuseState.DECLINED
        async with pg_guard():
            row = await self._pool.fetchrow(DECIDE, request_id, state.value, decided_by, now)
        return request_from_row(row) if row else None

    async def reopen(self, request_id: int, *, decided_by: int) -> None:
        async with pg_guard():
            await self._pool.execute(REOPEN, request_id, decided_by)

    async def pending_requests(self, course_ids: Sequence[int]) -> list[ExcuseRequest]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_PENDING, list(course_ids))
        return [request_from_row(row) for row in rows]

    async def saved_records(self, course_id: int, *, student_id: int) -> list[SavedRecord]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_SAVED_RECORDS, course_id, student_id)
        return [
            SavedRecord(r["id"], r["title"], r["started_at"], AttendanceStatus(r["status"]))
            for r in rows
        ]

    async def approved_premarks(self) -> list[ExcuseRequest]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_PREMARKS)
        return [request_from_row(row) for row in rows]

    async def move_request(self, request_id: int, *, from_session: str, to_session: str) -> bool:
        async with pg_guard():
            moved = await self._pool.fetchval(MOVE_REQUEST, request_id, from_session, to_session)
        return moved is not None
