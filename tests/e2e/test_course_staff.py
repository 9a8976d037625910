"""Issue 13, co-teachers and assistants, end to end through the real `attn run` process: the
owner invites an assistant and a co-teacher by one-time link (buttons under /staff), the
assistant starts a session of the course, the co-teacher marks in it, and the stored audit
names each of them."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import asyncpg
from redis import Redis

from tests.conftest import empty_database
from tests.e2e.conftest import TEACHER, BotProcess, bot_env, current_code, wait_until_polling
from tests.fakes.botapi import FakeBotApi

ASSIST, CO = 7101, 7102  # neither is a teacher
ANN, BOB = 7201, 7202


def press_button(fake: FakeBotApi, chat_id: int, user_id: int, pattern: str) -> None:
    """Press the button whose data matches `pattern` under the newest message that has it."""
    for message in reversed(fake.chat_messages(chat_id)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if re.fullmatch(pattern, data):
                    fake.press_button(user_id, message["message_id"], chat_id, data)
                    return
    raise AssertionError(f"no button {pattern!r} in chat {chat_id}")


def staff_link_for(fake: FakeBotApi, letter: str) -> str:
    """The owner opens /staff and presses "Invite a co-teacher" (c) or "Invite an
    assistant" (a); the one-time link the bot answers with."""
    before = len(fake.texts_to(TEACHER))

    def new(f: FakeBotApi, part: str) -> list[str]:
        return [t for t in f.texts_to(TEACHER)[before:] if part in t]

    fake.send_message(TEACHER, "/staff")
    fake.wait_for(lambda f: bool(new(f, "<b>Staff of Algebra</b>")), timeout=30)
    press_button(fake, TEACHER, TEACHER, rf"sf:i:\d+:{letter}")
    fake.wait_for(lambda f: bool(new(f, "?start=staff_")), timeout=30)
    [sent] = new(fake, "?start=staff_")
    link = re.search(r"\?start=(staff_[A-Za-z0-9_-]+)", sent)
    assert link, sent
    return link[1]


async def stored(database_url: str, query: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        return [dict(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


def test_an_assistant_starts_a_session_and_a_co_teacher_marks_it(
    fake: FakeBotApi, tmp_path: Path, redis_url: str, database_url: str
) -> None:
    asyncio.run(empty_database(database_url))
    Redis.from_url(redis_url).flushdb()
    env = bot_env(fake, tmp_path / "data", ATTN_REDIS_URL=redis_url, ATTN_DATABASE_URL=database_url)
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/new_course Algebra")
        [created] = fake.wait_for_messages(TEACHER, 1, timeout=30)
        join = re.search(r"\?start=(join_[A-Za-z0-9_-]+)", created.text or "")
        assert join, created.text
        for student, name in ((ANN, "Ann Lee"), (BOB, "Bob Ray")):
            fake.send_message(student, f"/start {join[1]}")
            fake.wait_for_messages(student, 2, timeout=30)  # enrolled + "your name?"
            fake.send_message(student, name)
            fake.wait_for_messages(student, 3, timeout=30)

        # The owner invites an assistant and a co-teacher; each link works once.
        assistant_link = staff_link_for(fake, "a")
        fake.send_message(ASSIST, f"/start {assistant_link}")
        [joined] = fake.wait_for_messages(ASSIST, 1, timeout=30)
        assert (joined.text or "").startswith("You are now an assistant of <b>Algebra</b>")
        fake.wait_for(  # the owner is told who joined
            lambda f: any("is now an assistant of" in t for t in f.texts_to(TEACHER)), timeout=30
        )
        fake.send_message(BOB, f"/start {assistant_link}")  # used: refused
        texts = fake.wait_for_messages(BOB, 4, timeout=30)
        assert (texts[-1].text or "").startswith("This staff invitation is not valid")
        co_link = staff_link_for(fake, "c")
        fake.send_message(CO, f"/start {co_link}")
        [joined] = fake.wait_for_messages(CO, 1, timeout=30)
        assert (joined.text or "").startswith("You are now a co-teacher of <b>Algebra</b>")

        # The assistant (no teacher) starts the course's session; Ann checks in.
        fake.send_message(ASSIST, "/start_session Algebra 30")
        fake.wait_for(lambda f: any("photo" in m for m in f.chat_messages(ASSIST)), timeout=30)
        fake.send_message(ANN, f"/checkin {current_code(fake, ASSIST)}")
        texts = fake.wait_for_messages(ANN, 4, timeout=30)
        assert "Checked in" in (texts[-1].text or ""), texts[-1].text
        # The co-teacher marks Bob excused in the session the assistant runs.
        fake.send_message(CO, "/mark Bob excused")
        texts = fake.wait_for_messages(CO, 2, timeout=30)
        assert "Bob Ray" in (texts[-1].text or "") and "excused" in (texts[-1].text or "")
        # A student cannot.
        fake.send_message(ANN, "/mark Bob absent")
        texts = fake.wait_for_messages(ANN, 5, timeout=30)
        assert "Only teachers" in (texts[-1].text or "")

        # The assistant ends it; the summary goes to them and says who started it.
        fake.send_message(ASSIST, "/end_session")
        fake.wait_for(
            lambda f: any(m.method == "sendDocument" for m in f.messages_to(ASSIST)), timeout=60
        )
        summary = next(t for t in fake.texts_to(ASSIST) if t.startswith("<b>Summary"))
        assert "Started by " in summary
        assert "Present 1 · Late 0 · Absent 0 · Excused 1" in summary
        assert not [t for t in fake.texts_to(TEACHER) if t.startswith("<b>Summary")]
    finally:
        bot.stop()

    # The audit names each: who started the session, who marked, who joined the staff.
    [session] = asyncio.run(stored(database_url, "SELECT teacher_id, course_id FROM sessions"))
    assert session["teacher_id"] == ASSIST
    marks = asyncio.run(
        stored(database_url, "SELECT student_id, changed_by, new_status FROM attendance_audit")
    )
    assert marks == [{"student_id": BOB, "changed_by": CO, "new_status": "excused"}]
    joins = asyncio.run(
        stored(
            database_url,
            "SELECT action, changed_by, new_value FROM course_audit ORDER BY id",
        )
    )
    assert joins == [
        {"action": "add_staff", "changed_by": ASSIST, "new_value": "assistant"},
        {"action": "add_staff", "changed_by": CO, "new_value": "co_teacher"},
    ]
