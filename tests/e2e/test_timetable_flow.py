"""Timetables end to end: the real `attn run` process, its own JobQueue tick and clock. A
class imported from a CSV to start a minute or two from now is reminded once and opened
once by itself: its session card reaches the teacher without anyone typing a command."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis

from services.timetable_slots import WEEKDAYS
from tests.e2e.conftest import TEACHER, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import FakeBotApi


async def _empty(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


def texts_to_teacher(fake: FakeBotApi, marker: str) -> list[str]:
    return [m.text or "" for m in fake.messages_to(TEACHER) if (m.text or "").startswith(marker)]


def test_an_imported_class_is_reminded_and_opens_by_itself(
    fake: FakeBotApi, tmp_path: Path, redis_url: str, clean_database: str
) -> None:
    asyncio.run(_empty(redis_url))
    env = bot_env(
        fake, tmp_path / "data", ATTN_REDIS_URL=redis_url, ATTN_DATABASE_URL=clean_database
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/new_course Maths")
        fake.wait_for_messages(TEACHER, 1, timeout=30)
        # The next whole minute at least 60 s away (the course keeps the default zone, UTC).
        now = datetime.now(UTC)
        start = (now + timedelta(seconds=120)).replace(second=0, microsecond=0)
        day = start.date().isoformat()
        csv = (
            f"slot,{WEEKDAYS[start.weekday()]},{start:%H:%M},5\n"
            f"term,{day},{day}\nremind,5\nearly,0\n"
        ).encode()
        fake.send_document(TEACHER, csv, "timetable.csv", "text/csv", caption="/timetable")
        fake.wait_for(lambda f: bool(texts_to_teacher(f, "⏰")), timeout=60)
        assert texts_to_teacher(fake, "⏰")[0].startswith(
            f"⏰ Maths starts at {start:%Y-%m-%d %H:%M}"
        )
        wait = (start - datetime.now(UTC)).total_seconds() + 60
        fake.wait_for(
            lambda f: any(c.method == "sendPhoto" for c in f.messages_to(TEACHER)),
            timeout=max(wait, 10),
        )
        time.sleep(21)  # one more tick of the timetable job: nothing happens twice
        assert len(texts_to_teacher(fake, "⏰")) == 1
        cards = [c for c in fake.messages_to(TEACHER) if c.method == "sendPhoto"]
        assert len(cards) == 1 and "Maths" in (cards[0].text or ""), fake.dump()
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]
