"""Timetables and their slot runs in PostgreSQL: each stage of a slot is claimed by one
conditional statement on its run row, so with several processes exactly one does the work."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from services.timetable_slots import SlotRule, SlotRun, Timetable
from storage.postgres.pool import pg_guard

SELECT_TIMETABLE = "SELECT * FROM timetables WHERE course_id = $1"
SELECT_TIMETABLES = "SELECT * FROM timetables ORDER BY course_id"

UPSERT_TIMETABLE = """
INSERT INTO timetables (course_id, first_day, last_day, slots, holidays, early_minutes,
                        remind_minutes, group_chat_id, changed_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)
ON CONFLICT (course_id) DO UPDATE SET
    first_day = EXCLUDED.first_day, last_day = EXCLUDED.last_day, slots = EXCLUDED.slots,
    holidays = EXCLUDED.holidays, early_minutes = EXCLUDED.early_minutes,
    remind_minutes = EXCLUDED.remind_minutes, group_chat_id = EXCLUDED.group_chat_id,
    changed_at = EXCLUDED.changed_at
"""

UPDATE_TIMETABLE_OVER = """
UPDATE timetables SET first_day = $2, last_day = $3, slots = $4::jsonb, holidays = $5,
    early_minutes = $6, remind_minutes = $7, group_chat_id = $8, changed_at = $9
WHERE course_id = $1 AND changed_at = $10
"""

INSERT_TIMETABLE_NEW = """
INSERT INTO timetables (course_id, first_day, last_day, slots, holidays, early_minutes,
                        remind_minutes, group_chat_id, changed_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)
ON CONFLICT (course_id) DO NOTHING
"""

DELETE_TIMETABLE = "DELETE FROM timetables WHERE course_id = $1"

SELECT_RUNS = """
SELECT course_id, starts_at, reminded_at, open_claimed_until, session_id, reported_at
FROM timetable_runs WHERE starts_at >= $1 ORDER BY starts_at, course_id
"""

# Each claim inserts the slot's row, or updates it only if that stage is still free; the
# statement returns a row only to the one caller that changed it.
CLAIM_REMINDER = """
INSERT INTO timetable_runs AS r (course_id, starts_at, reminded_at) VALUES ($1, $2, now())
ON CONFLICT (course_id, starts_at) DO UPDATE SET reminded_at = now()
WHERE r.reminded_at IS NULL
RETURNING 1
"""

CLAIM_OPEN = """
INSERT INTO timetable_runs AS r (course_id, starts_at, open_claimed_until) VALUES ($1, $2, $4)
ON CONFLICT (course_id, starts_at) DO UPDATE SET open_claimed_until = $4
WHERE r.session_id IS NULL AND (r.open_claimed_until IS NULL OR r.open_claimed_until <= $3)
RETURNING 1
"""

RECORD_SESSION = """
INSERT INTO timetable_runs AS r (course_id, starts_at, session_id) VALUES ($1, $2, $3)
ON CONFLICT (course_id, starts_at) DO UPDATE SET session_id = $3
"""

CLAIM_REPORT = """
INSERT INTO timetable_runs AS r (course_id, starts_at, reported_at) VALUES ($1, $2, now())
ON CONFLICT (course_id, starts_at) DO UPDATE SET reported_at = now()
WHERE r.reported_at IS NULL
RETURNING 1
"""


def _timetable(row: asyncpg.Record) -> Timetable:
    slots = json.loads(row["slots"]) if isinstance(row["slots"], str) else row["slots"]
    return Timetable(
        course_id=row["course_id"],
        first_day=row["first_day"],
        last_day=row["last_day"],
        changed_at=row["changed_at"],
        rules=tuple(sorted(SlotRule.from_json(s) for s in slots)),
        holidays=frozenset(row["holidays"]),
        early_minutes=row["early_minutes"],
        remind_minutes=row["remind_minutes"],
        group_chat_id=row["group_chat_id"],
    )


class PostgresTimetableRecords:
    """`TimetableRecords` over PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def timetable(self, course_id: int) -> Timetable | None:
        async with pg_guard():
            row = await self._pool.fetchrow(SELECT_TIMETABLE, course_id)
        return _timetable(row) if row else None

    async def save_timetable(self, timetable: Timetable) -> None:
        slots = json.dumps([rule.to_json() for rule in timetable.rules])
        async with pg_guard():
            await self._pool.execute(
                UPSERT_TIMETABLE,
                timetable.course_id,
                timetable.first_day,
                timetable.last_day,
                slots,
                sorted(timetable.holidays),
                timetable.early_minutes,
                timetable.remind_minutes,
                timetable.group_chat_id,
                timetable.changed_at,
            )

    async def save_timetable_over(self, timetable: Timetable, *, previous: datetime) -> bool:
        """The row changed at `previous` is updated; with none, one is inserted if there is
        still none (either statement alone is atomic: a change in between makes both fail)."""
        values = (
            timetable.course_id,
            timetable.first_day,
            timetable.last_day,
            json.dumps([rule.to_json() for rule in timetable.rules]),
            sorted(timetable.holidays),
            timetable.early_minutes,
            timetable.remind_minutes,
            timetable.group_chat_id,
            timetable.changed_at,
        )
        async with pg_guard():
            status = await self._pool.execute(UPDATE_TIMETABLE_OVER, *values, previous)
            if status.endswith(" 0"):
                status = await self._pool.execute(INSERT_TIMETABLE_NEW, *values)
        return bool(status.endswith(" 1"))

    async def delete_timetable(self, course_id: int) -> bool:
        async with pg_guard():
            status = await self._pool.execute(DELETE_TIMETABLE, course_id)
        return bool(status.endswith(" 1"))

    async def timetables(self) -> list[Timetable]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_TIMETABLES)
        return [_timetable(row) for row in rows]

    async def slot_runs(self, *, since: datetime) -> list[SlotRun]:
        async with pg_guard():
            rows = await self._pool.fetch(SELECT_RUNS, since)
        return [
            SlotRun(
                course_id=r["course_id"],
                starts_at=r["starts_at"],
                reminded=r["reminded_at"] is not None,
                session_id=r["session_id"],
                open_claimed_until=r["open_claimed_until"],
                reported=r["reported_at"] is not None,
            )
            for r in rows
        ]

    async def claim_reminder(self, course_id: int, *, starts_at: datetime) -> bool:
        async with pg_guard():
            return await self._pool.fetchval(CLAIM_REMINDER, course_id, starts_at) is not None

    async def claim_open(
        self, course_id: int, *, starts_at: datetime, now: datetime, until: datetime
    ) -> bool:
        async with pg_guard():
            won = await self._pool.fetchval(CLAIM_OPEN, course_id, starts_at, now, until)
        return won is not None

    async def record_session(self, course_id: int, *, starts_at: datetime, session_id: str) -> None:
        async with pg_guard():
            await self._pool.execute(RECORD_SESSION, course_id, starts_at, session_id)

    async def claim_report(self, course_id: int, *, starts_at: datetime) -> bool:
        async with pg_guard():
            return await self._pool.fetchval(CLAIM_REPORT, course_id, starts_at) is not None
