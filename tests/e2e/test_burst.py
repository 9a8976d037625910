"""A 1,000-student burst through the real Application over HTTP, with Telegram's flood limits.

The fake Bot API answers 10 % of sends with 429 and a retry_after. Every check-in must be in
Redis before the 100th reply goes out (recording never waits for replies), every student
gets exactly one reply, and the bot never sends more than 30 messages in a second, nor more
than one a second to any one chat.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.app import build_application
from bot.bootstrap import build_services
from bot.container import Services
from storage.redis import keys
from tests.conftest import TEACHER_ID, TOKEN, make_settings
from tests.fakes.botapi import FakeBotApi

STUDENTS = range(600_000, 601_000)


@pytest.fixture
def fake() -> AsyncIterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as api:
        yield api  # type: ignore[misc]


async def test_1000_check_ins_recorded_before_the_100th_reply_and_never_flooding(
    fake: FakeBotApi, redis_url: str, clean_redis: Redis, clean_database: str
) -> None:
    settings = make_settings(telegram_api_url=fake.bot_url, code_rotation_seconds=0)
    services: Services = await build_services(settings, redis_url, clean_database)

    async def factory() -> Services:
        return services

    app = build_application(settings, factory, schedule=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Hall")
        fake.inject_429(0.10, retry_after=1, seed=7, methods={"sendMessage"})
        started = time.monotonic()
        for student in STUDENTS:
            fake.send_message(student, f"/checkin {session.code}")

        recorded_at = None
        checkins = keys.session_checkins(session.id)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if await clean_redis.hlen(checkins) == 1000:
                recorded_at = time.monotonic()
                break
            await asyncio.sleep(0.01)
        assert recorded_at is not None, "not all check-ins were recorded"

        def replies_so_far() -> list[float]:
            return sorted(
                c.at for c in fake.calls_of("sendMessage", ok_only=True) if c.chat_id != TEACHER_ID
            )

        await fake.wait_for_async(lambda f: len(replies_so_far()) >= 1000, timeout=240)
        replies = replies_so_far()
        hundredth = replies[99]
        print(
            f"\nburst: 1000 recorded {recorded_at - started:.2f} s after the first update; "
            f"100th reply at {hundredth - started:.2f} s; last reply at "
            f"{replies[-1] - started:.1f} s; "
            f"429s answered: {sum(1 for c in fake.calls if c.fault)}; "
            f"max/s: {fake.max_messages_in_any_second()}, "
            f"max/s per chat: {fake.max_messages_per_chat_in_any_second()}"
        )
        assert recorded_at < hundredth
        per_student = {s: 0 for s in STUDENTS}
        for call in fake.calls_of("sendMessage", ok_only=True):
            if call.chat_id in per_student:
                assert "Checked in" in (call.text or "")
                per_student[call.chat_id] += 1
        assert set(per_student.values()) == {1}  # every reply delivered, exactly once
        assert any(c.fault for c in fake.calls)  # the 429s did happen
        assert fake.max_messages_in_any_second() <= 30
        assert fake.max_messages_per_chat_in_any_second() <= 1
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await services.close()
