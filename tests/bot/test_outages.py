"""Redis or PostgreSQL going away: a brief reply, the bot keeps running, and recovers alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.bootstrap import build_services
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.tcp_proxy import TcpProxy

STUDENT = 6001


@pytest.fixture
async def proxies(
    redis_url: str, clean_redis: Redis, clean_database: str
) -> AsyncIterator[tuple[TcpProxy, TcpProxy]]:
    redis_proxy = await TcpProxy.for_url(redis_url).start()
    pg_proxy = await TcpProxy.for_url(clean_database).start()
    yield redis_proxy, pg_proxy
    await redis_proxy.close()
    await pg_proxy.close()


@pytest.fixture
async def proxied_bot(
    proxies: tuple[TcpProxy, TcpProxy], redis_url: str, clean_database: str, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    redis_proxy, pg_proxy = proxies
    services = await build_services(
        make_settings(),
        redis_proxy.proxied_url(redis_url),
        pg_proxy.proxied_url(clean_database),
        clock=clock,
    )
    async with BotHarness(make_settings(), services) as harness:
        yield harness
    await services.close()


async def test_redis_outage_gets_a_brief_reply_and_recovers(
    proxied_bot: BotHarness, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    redis_proxy, _ = proxies
    await proxied_bot.send(TEACHER_ID, "/start_session 10 Outage")
    session = await proxied_bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await redis_proxy.cut()
    [reply] = await proxied_bot.send(STUDENT, f"/checkin {session.code}")
    assert "temporarily unavailable" in reply
    [reply] = await proxied_bot.send(TEACHER_ID, "/end_session")
    assert "temporarily unavailable" in reply
    await redis_proxy.restore()
    [reply] = await proxied_bot.send(STUDENT, f"/checkin {session.code}")
    assert "Checked in" in reply


async def test_postgres_outage_does_not_stop_check_ins(
    proxied_bot: BotHarness, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    _, pg_proxy = proxies
    await proxied_bot.send(TEACHER_ID, "/start_session 10 Outage")
    session = await proxied_bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await pg_proxy.cut()
    # A brand-new student: their profile cannot be loaded from PostgreSQL, check-in still works.
    [reply] = await proxied_bot.send(STUDENT, f"/checkin {session.code}")
    assert "Checked in" in reply
    [reply] = await proxied_bot.send(STUDENT + 1, "/register Ada Lovelace")
    assert "temporarily unavailable" in reply
    await pg_proxy.restore()
    [reply] = await proxied_bot.send(STUDENT + 1, "/register Ada Lovelace")
    assert "Ada Lovelace" in reply
