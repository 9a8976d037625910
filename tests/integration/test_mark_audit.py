"""A live /mark and its audit row are stored together or not at all.

The connections go through cuttable proxies (real outages, no mocks); the cut is timed with
a thin wrapper around the real store that pulls the plug at the exact step under test.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from redis.asyncio import Redis

from bot.container import Services
from storage.redis import keys
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.mark_audit import (
    STUDENT,
    CutAfter,
    CutDuring,
    corrections_with,
    live_session_with_student,
)
from tests.support.tcp_proxy import TcpProxy


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
