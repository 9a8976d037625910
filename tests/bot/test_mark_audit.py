"""A live /mark and its audit row are stored together or not at all.

The connections go through cuttable proxies (real outages, no mocks); the cut is timed with
a thin wrapper around the real store that pulls the plug at the exact step under test.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bot.container import Services
from services.corrections import CorrectionService
from storage.redis import keys
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.tcp_proxy import TcpProxy

STUDENT = 81_001


class CutDuring:
    """Delegates to a real store; cuts a proxy as the named method is first called."""

    def __init__(self, store: Any, method: str, cut: Callable[[], Awaitable[None]]) -> None:
        self._store, self._method, self._cut, self.fired = store, method, cut, False

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method:
            return real

        async def cutting(*args: Any, **kwargs: Any) -> Any:
            if not self.fired:
                self.fired = True
                await self._cut()
            return await real(*args, **kwargs)

        return cutting


class CutAfter(CutDuring):
    """Delegates to a real store; cuts a proxy as soon as the named method has succeeded."""

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method:
            return real

        async def cutting(*args: Any, **kwargs: Any) -> Any:
            result = await real(*args, **kwargs)
            if not self.fired:
                self.fired = True
                await self._cut()
            return result

        return cutting


async def live_session_with_student(bot: BotHarness) -> str:
    [created] = await bot.send(TEACHER_ID, "/new_course Audit")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join, created
    await bot.send(STUDENT, f"/join {join[1]}")
    await bot.send(STUDENT, "Ada Lovelace 4711")
    [card] = await bot.send(TEACHER_ID, "/start_session Audit 30")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    [ok] = await bot.send(STUDENT, f"/checkin {code[1]}")
    assert "Checked in" in ok
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    return session.id


async def stored(redis_url: str, database_url: str, session_id: str) -> tuple[Any, int]:
    """(the live mark of the student, the number of audit rows) read straight from the
    servers, not through the proxies."""
    redis = Redis.from_url(redis_url)
    try:
        mark = await redis.hget(keys.session_marks(session_id), str(STUDENT))
    finally:
        await redis.aclose()
    conn = await asyncpg.connect(database_url)
    try:
        audits = int(await conn.fetchval("SELECT count(*) FROM attendance_audit"))
    finally:
        await conn.close()
    return mark, audits


def corrections_with(services: Services, checkins: Any = None, attendance: Any = None) -> None:
    """Swap the bot's correction service for one whose live check-ins or attendance records
    are wrapped."""
    services.corrections = CorrectionService(
        sessions=services.live.sessions,
        checkins=checkins or services.live.checkins,
        session_records=services.records.sessions,
        attendance=attendance or services.records.attendance,
        courses=services.records.courses,
        roles=services.roles,
        clock=services.corrections._clock,  # type: ignore[attr-defined]
    )


async def test_postgres_cut_before_the_audit_leaves_neither_then_both(
    proxied_services: Services,
    proxies: tuple[TcpProxy, TcpProxy],
    redis_url: str,
    clean_database: str,
) -> None:
    _, pg_proxy = proxies
    async with BotHarness(make_settings(), proxied_services) as bot:
        session_id = await live_session_with_student(bot)
        # PostgreSQL dies right after the roster is read, as the correction begins.
        corrections_with(
            proxied_services,
            checkins=CutDuring(proxied_services.live.checkins, "live_status", pg_proxy.cut),
        )
        [reply] = await bot.send(TEACHER_ID, "/mark Ada absent")
        assert "temporarily unavailable" in reply
        assert await stored(redis_url, clean_database, session_id) == (None, 0)
        await pg_proxy.restore()
        [done] = await bot.send(TEACHER_ID, "/mark Ada absent")
        assert "absent" in done
        assert await stored(redis_url, clean_database, session_id) == (b"absent", 1)


async def test_redis_cut_after_the_audit_withdraws_it(
    proxied_services: Services,
    proxies: tuple[TcpProxy, TcpProxy],
    redis_url: str,
    clean_database: str,
) -> None:
    redis_proxy, _ = proxies
    async with BotHarness(make_settings(), proxied_services) as bot:
        session_id = await live_session_with_student(bot)
        corrections_with(
            proxied_services,
            attendance=CutAfter(
                proxied_services.records.attendance, "audit_live_correction", redis_proxy.cut
            ),
        )
        [reply] = await bot.send(TEACHER_ID, "/mark Ada excused")
        assert "temporarily unavailable" in reply
        assert await stored(redis_url, clean_database, session_id) == (None, 0)
        await redis_proxy.restore()
        [done] = await bot.send(TEACHER_ID, "/mark Ada excused")
        assert "excused" in done
        assert await stored(redis_url, clean_database, session_id) == (b"excused", 1)


async def test_a_correction_overtaken_by_another_is_audited_with_what_it_replaced(
    services: Services, redis_url: str, clean_database: str
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
    conn = await asyncpg.connect(clean_database)
    try:
        rows = await conn.fetch("SELECT old_status, new_status FROM attendance_audit ORDER BY id")
    finally:
        await conn.close()
    assert [(r["old_status"], r["new_status"]) for r in rows] == [
        ("present", "late"),
        ("late", "absent"),
    ]
    mark, _ = await stored(redis_url, clean_database, session_id)
    assert mark == b"absent"
