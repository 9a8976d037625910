"""Roster import end to end: the real `attn run` process on real Redis and PostgreSQL, the
fake Bot API serving the teacher's file (getFile, then a download from the file URL, as
Telegram does), a student claiming a place and a mismatch approved by the teacher's tap."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from tests.e2e.conftest import TEACHER, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import FakeBotApi

ANN, BOB = 40_001, 40_002


def roster_file() -> bytes:
    """Excel-style: a BOM, `;` between fields, CRLF; 20 rows, of which line 5 has a formula
    and line 9 was pasted from a Latin-1 source into this UTF-8 file."""
    lines = ["\ufeffNúmero;Nombre completo;Correo".encode()]
    for line in range(2, 22):
        name = f"Estudiante Ñandú {line}"
        if line == 5:
            name = "@SUM(A1:A9)"
        text = f"S{1000 + line};{name};s{line}@uni.example"
        lines.append(text.encode("latin-1" if line == 9 else "utf-8"))
    return b"\r\n".join(lines) + b"\r\n"


def last_text(fake: FakeBotApi, chat_id: int, count: int) -> str:
    return fake.wait_for_messages(chat_id, count, timeout=30)[-1].text or ""


def buttons_of(fake: FakeBotApi, chat_id: int) -> tuple[int, list[dict[str, Any]]]:
    """The newest bot message in `chat_id` with buttons: its id and its buttons."""
    for message in reversed(fake.chat_messages(chat_id)):
        markup = message.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            return message["message_id"], [b for row in markup["inline_keyboard"] for b in row]
    raise AssertionError("no message with buttons")


async def _empty(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()


async def _places(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT student_number, full_name, claimed_by FROM roster_places ORDER BY id"
        )
    finally:
        await conn.close()


def test_import_claim_and_approve(
    fake: FakeBotApi, tmp_path: Path, redis_url: str, clean_database: str
) -> None:
    asyncio.run(_empty(redis_url))
    env = bot_env(
        fake, tmp_path / "data", ATTN_REDIS_URL=redis_url, ATTN_DATABASE_URL=clean_database
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/new_course Anatomía")
        code = re.search(r"/join ([A-Z0-9]{8})", last_text(fake, TEACHER, 1))
        assert code, fake.dump()

        fake.send_document(TEACHER, roster_file(), "lista.csv", "text/csv")
        assert last_text(fake, TEACHER, 2) == "Which course is this roster for?"
        message_id, [course_button] = buttons_of(fake, TEACHER)
        fake.press_button(TEACHER, message_id, TEACHER, course_button["callback_data"])
        fake.wait_for(lambda f: any("New places" in (m.text or "") for m in f.messages_to(TEACHER)))
        report = next(
            m.text or "" for m in fake.messages_to(TEACHER) if "New places" in (m.text or "")
        )
        assert "New places: 18" in report and "Lines rejected: 2" in report, report
        assert "line 5: a cell starts with = + - or @" in report
        assert "line 9: not UTF-8 like the rest of the file" in report
        assert fake.calls_of("getFile", ok_only=True)
        places = asyncio.run(_places(clean_database))
        assert len(places) == 18 and places[0]["full_name"] == "Estudiante Ñandú 2"

        # Ann claims her place; Bob's number is on no place: the teacher approves him.
        fake.send_message(ANN, f"/join {code[1]}")
        assert "send me your student number" in last_text(fake, ANN, 1)
        fake.send_message(ANN, "s1003")
        assert "Welcome to <b>Anatomía</b>, Estudiante Ñandú 3" in last_text(fake, ANN, 2)
        fake.send_message(BOB, f"/join {code[1]}")
        last_text(fake, BOB, 1)
        sent_before = len(fake.messages_to(TEACHER))
        fake.send_message(BOB, "S9999")
        assert "I asked your teacher to confirm you" in last_text(fake, BOB, 2)
        question = last_text(fake, TEACHER, sent_before + 1)
        assert "with student number S9999, which is not on the imported roster" in question
        message_id, [approve, _decline] = buttons_of(fake, TEACHER)
        fake.press_button(TEACHER, message_id, TEACHER, approve["callback_data"])
        assert "you are in <b>Anatomía</b>" in last_text(fake, BOB, 3)

        claimed = {
            p["student_number"]: p["claimed_by"] for p in asyncio.run(_places(clean_database))
        }
        assert claimed["S1003"] == ANN
        assert sorted(v for v in claimed.values() if v is not None) == [ANN]
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]
