"""Issue 13, co-teachers and assistants, end to end through the real `attn run` process: the
owner invites an assistant and a co-teacher by one-time link (buttons under /staff), the
assistant starts the course's timetabled class early (the reminder's "start now"), the
co-teacher marks in it, and the stored audit names each of them."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
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


def say(fake: FakeBotApi, user: int, text: str, expected: str) -> str:
    """Send `text` as `user`; the first new message to them containing `expected`."""
    before = len(fake.texts_to(user))

    def found(f: FakeBotApi) -> list[str]:
        return [t for t in f.texts_to(user)[before:] if expected in t]

    fake.send_message(user, text)
    fake.wait_for(lambda f: bool(found(f)), timeout=30)
    return found(fake)[0]


def has_button(fake: FakeBotApi, chat_id: int, pattern: str) -> bool:
    return any(
        re.fullmatch(pattern, str(button.get("callback_data", "")))
        for message in fake.chat_messages(chat_id)
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    )


def timetable_file() -> bytes:
    """One weekly class starting 25-30 minutes from now (UTC, the course's zone), an hour
    long, reminded 60 minutes before: its reminder is due at once, its opening is not."""
    starts = datetime.now(UTC) + timedelta(minutes=25)
    starts += timedelta(minutes=(5 - starts.minute % 5) % 5)
    day = starts.date()
    lines = [
        f"term,{day.isoformat()},{(day + timedelta(days=30)).isoformat()}",
        f"slot,{starts:%a},{starts:%H:%M},60",
        "remind,60",
    ]
    return ("\n".join(lines) + "\n").encode()


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


def test_an_assistant_starts_a_timetabled_class_early_and_a_co_teacher_marks_it(
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

        # The owner sends the course's timetable: a class starting in about half an hour,
        # reminded an hour ahead, so the reminder (with "start now") is due at once; it
        # reaches the owner and both staff members.
        fake.send_document(
            TEACHER, timetable_file(), "timetable.csv", "text/csv", caption="/timetable Algebra"
        )
        for user in (TEACHER, ASSIST, CO):
            fake.wait_for(lambda f, u=user: has_button(f, u, r"tt:n:\d+"), timeout=60)
        # The assistant (no teacher) starts the timetabled class early from the reminder.
        press_button(fake, ASSIST, ASSIST, r"tt:n:\d+")
        fake.wait_for(lambda f: any("photo" in m for m in f.chat_messages(ASSIST)), timeout=30)
        say(fake, ANN, f"/checkin {current_code(fake, ASSIST)}", "Checked in")
        # The co-teacher marks Bob excused in the session the assistant runs.
        marked = say(fake, CO, "/mark Bob excused", "Bob Ray")
        assert "excused" in marked, marked
        # A student cannot.
        say(fake, ANN, "/mark Bob absent", "Only teachers")

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

    # The audit names each: who started the session (the timetabled class's), who marked,
    # who joined the staff.
    [session] = asyncio.run(stored(database_url, "SELECT id, teacher_id FROM sessions"))
    assert session["teacher_id"] == ASSIST
    [run] = asyncio.run(stored(database_url, "SELECT session_id FROM timetable_runs"))
    assert run["session_id"] == session["id"]
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
