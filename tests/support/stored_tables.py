"""What ended up stored, table by table, on either record backend the bot tests run on.

Why: tests/bot asserts on what is stored (an audit row, a pseudonym, an outbox row), not only
on what the bot said, and runs on PostgreSQL (`ATTN_TEST_STORES=servers`) or on the in-memory
records (`memory`). Both readers give each table as rows of PostgreSQL's column names and
values (statuses as their text, timestamps as datetimes), so one assertion holds on both.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Protocol

import asyncpg

from services.ports.excuses import ExcuseRequest
from tests.fakes.memory import MemoryDatabase

Row = dict[str, Any]

# The primary key columns of each table, as MemoryDatabase keys its dicts by them.
_KEYS: dict[str, tuple[str, ...]] = {
    "users": ("id",),
    "sessions": ("id",),
    "attendance": ("session_id", "student_id"),
    "summary_outbox": ("session_id",),
    "nudge_outbox": ("session_id", "student_id"),
    "courses": ("id",),
    "enrolments": ("course_id", "student_id"),
    "attendance_audit": ("id",),
    "course_audit": ("id",),
    "teachers": ("user_id",),
    "teacher_invites": ("token_hash",),
    "forgotten_users": ("user_id",),
    "unreachable_users": ("user_id",),
    "course_staff": ("course_id", "user_id"),
    "course_staff_invites": ("token_hash",),
    "excuse_requests": ("id",),
    "roster_places": ("id",),
    "roster_claims": ("id",),
    "user_preferences": ("user_id",),
    "api_tokens": ("id",),
    "course_webhooks": ("id",),
    "webhook_outbox": ("id",),
    "webhook_notices": ("id",),
}
# Tables whose memory value is one column, not a row object.
_SCALAR_VALUE = {"enrolments": "enrolled_at", "teachers": "added_by"}
# Row-object fields named differently from their column (the key is the column already).
_RENAMED = {
    "users": {"user_id": None},
    "summary_outbox": {"seq": None},
    "nudge_outbox": {"seq": None},
}

TABLE_NAMES = tuple(_KEYS)


def _excuse_row(request: ExcuseRequest) -> Row:
    """An excuse request as its row in `excuse_requests` (the memory value nests them)."""
    attachment = request.attachment
    return {
        "id": request.id,
        "course_id": request.target.course_id,
        "session_id": request.target.session_id,
        "session_title": request.target.title,
        "session_started_at": request.target.started_at,
        "student_id": request.student_id,
        "reason": request.reason,
        "file_id": attachment.file_id if attachment else None,
        "file_kind": attachment.kind.value if attachment else None,
        "state": request.state.value,
        "created_at": request.created_at,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at,
    }


class StoredTables(Protocol):
    async def names(self) -> list[str]:
        """Every table (on PostgreSQL from the catalog, so a new table counts too)."""

    async def rows(self, table: str) -> list[Row]:
        """Every row of `table`, in storage order (callers sort when order matters)."""


def _plain(value: Any) -> Any:
    """A value as asyncpg returns its column: enums as their text, lists element-wise."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class MemoryTables:
    """The tables of a `MemoryDatabase`, read without its outage switch (a test's view)."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def names(self) -> list[str]:
        return list(TABLE_NAMES)

    async def rows(self, table: str) -> list[Row]:
        keys = _KEYS[table]
        if table == "excuse_requests":
            return [_excuse_row(r) for r in self._db.excuse_requests.values()]
        result: list[Row] = []
        for key, value in getattr(self._db, table).items():
            key_values = key if isinstance(key, tuple) else (key,)
            row: Row = dict(zip(keys, key_values, strict=True))
            if table in _SCALAR_VALUE:
                row[_SCALAR_VALUE[table]] = value
            else:
                renamed = _RENAMED.get(table, {})
                for f in dataclasses.fields(value):
                    column = renamed.get(f.name, f.name)
                    if column is not None:
                        row.setdefault(column, _plain(getattr(value, f.name)))
            result.append(row)
        return result


class PostgresTables:
    """The tables of a PostgreSQL database, read over a connection of their own."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    async def names(self) -> list[str]:
        conn = await asyncpg.connect(self._url)
        try:
            found = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> 'schema_migrations' ORDER BY tablename"
            )
        finally:
            await conn.close()
        return [record["tablename"] for record in found]

    async def rows(self, table: str) -> list[Row]:
        if table not in await self.names():
            raise KeyError(table)
        conn = await asyncpg.connect(self._url)
        try:
            records = await conn.fetch(f'SELECT * FROM "{table}"')  # noqa: S608 - known names
        finally:
            await conn.close()
        return [dict(record) for record in records]


async def everything(tables: StoredTables) -> str:
    """Every stored value of every table as text, to search for what must (not) be kept."""
    parts: list[str] = []
    for table in await tables.names():
        for row in await tables.rows(table):
            parts.append(f"{table} {row!r}")
    return "\n".join(parts)
