"""Concurrent /marks: each audits the status it actually replaced (the outages of a /mark
and its audit row are in tests/integration/test_mark_audit.py, through real proxies)."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.container import Services
from storage.redis import keys
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.mark_audit import STUDENT, CutAfter, corrections_with, live_session_with_student
from tests.support.stored_tables import StoredTables


async def test_a_correction_overtaken_by_another_is_audited_with_what_it_replaced(
    services: Services, clean_redis: Redis, stored_tables: StoredTables
) -> None:
    """Two teachers' screens, one teacher: concurrent /marks each audit the status they
    actually replaced, so the audit trail chains without gaps."""
    async with BotHarness(make_settings(), services) as bot:
        session_id = await live_session_with_student(bot)
        racer = services.corrections

        async def other_mark_first() -> None:
            await racer.mark(TEACHER_ID, "Ada", "late")

        corrections_with(
            services,
            attendance=CutAfter(
                services.records.attendance, "audit_live_correction", other_mark_first
            ),
        )
        await bot.send(TEACHER_ID, "/mark Ada absent")
    rows = sorted(await stored_tables.rows("attendance_audit"), key=lambda r: r["id"])
    assert [(r["session_id"], r["student_id"], r["old_status"], r["new_status"]) for r in rows] == [
        (session_id, STUDENT, "present", "late"),
        (session_id, STUDENT, "late", "absent"),
    ]
    assert await clean_redis.hget(keys.session_marks(session_id), str(STUDENT)) == b"absent"
