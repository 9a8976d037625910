"""Redis or PostgreSQL going away: a brief reply, the bot keeps running, and recovers alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.container import Services
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.tcp_proxy import TcpProxy

STUDENT = 6001


@pytest.fixture
async def proxied_bot(proxied_services: Services) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_settings(), proxied_services) as harness:
        yield harness


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
