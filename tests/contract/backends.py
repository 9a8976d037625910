"""The one place the contract tests get their record stores: PostgreSQL or memory.

Why one factory: every assertion in tests/contract runs on both, so a difference between
the in-memory fakes and the SQL they stand for fails a test instead of hiding in the fast
loop. The PostgreSQL bundle is the one the composition root builds (`postgres_record_stores`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg

from services.models import AttendanceStatus, CheckIn, Session, SessionState
from services.ports import RecordStores
from storage.postgres import postgres_record_stores
from storage.postgres.migrate import apply_migrations
from tests.fakes.memory import memory_record_stores
from tests.support.emptying import delete_all_rows

BACKENDS = ["memory", "postgres"]
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@asynccontextmanager
async def record_backend(name: str, database_url: str | None = None) -> AsyncIterator[RecordStores]:
    """Fresh, empty record stores; on PostgreSQL the schema is applied and every table
    emptied, and sequences restart, so course and audit ids are the same on both backends.
    """
    if name == "memory":
        yield memory_record_stores()
        return
    assert database_url is not None
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables"
                " WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'"
            )
            await delete_all_rows(conn, [t["tablename"] for t in tables])
        await pool.execute(
            "ALTER SEQUENCE courses_id_seq RESTART WITH 1;"
            " ALTER SEQUENCE attendance_audit_id_seq RESTART WITH 1;"
            " ALTER SEQUENCE course_audit_id_seq RESTART WITH 1;"
            " ALTER SEQUENCE excuse_requests_id_seq RESTART WITH 1;"
            " ALTER SEQUENCE course_webhooks_id_seq RESTART WITH 1;"
            " ALTER SEQUENCE webhook_outbox_id_seq RESTART WITH 1"
        )
        yield postgres_record_stores(pool)
    finally:
        await pool.close()


def session(
    session_id: str,
    teacher_id: int = 1001,
    started_at: datetime = T0,
    course_id: int | None = None,
    title: str = "Lecture",
) -> Session:
    """A sealed session as the sweep persists it."""
    return Session(
        id=session_id,
        teacher_id=teacher_id,
        chat_id=teacher_id,
        title=title,
        code="",
        started_at=started_at,
        ends_at=started_at + timedelta(hours=1),
        state=SessionState.SEALED,
        late_at=started_at + timedelta(minutes=10),
        course_id=course_id,
    )


def checkin(
    session_id: str,
    student_id: int,
    minute: int | None = 1,
    status: AttendanceStatus = AttendanceStatus.PRESENT,
    started_at: datetime = T0,
) -> CheckIn:
    """A check-in `minute` minutes after the start (None: no check-in, e.g. absent)."""
    ms = None
    if minute is not None:
        ms = int((started_at + timedelta(minutes=minute)).timestamp() * 1000)
    return CheckIn(session_id, student_id, ms, status)
