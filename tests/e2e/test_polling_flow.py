"""A teacher and 30 students through the real `attn run` process, in polling mode."""

from __future__ import annotations

import csv
import io
import re
from html import escape
from pathlib import Path

from tests.e2e.conftest import TEACHER, TOKEN, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import FakeBotApi

STUDENTS = list(range(8001, 8031))
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah"]
LAST = ["Okafor", "Lindqvist", "García", "O'Neil", "Nguyen"]


def name_of(student: int) -> str:
    i = student - STUDENTS[0]
    return f"{FIRST[i % 6]} {LAST[i // 6]}"


def test_teacher_and_30_students_complete_the_flow(fake: FakeBotApi, tmp_path: Path) -> None:
    bot = BotProcess(bot_env(fake, tmp_path / "data"), tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/start_session 15 Algebra", first_name="Tess")
        [card] = fake.wait_for_messages(TEACHER, 1, timeout=30)
        code = re.search(r"<code>([A-Z0-9]{6})</code>", card.text or "")
        assert code is not None, card.params
        for student in STUDENTS:
            fake.send_message(student, f"/register {name_of(student)} S{student}")
            fake.send_message(student, f"/checkin {code[1].lower()}", first_name=f"S{student}")
        for student in STUDENTS:
            replies = [m.text for m in fake.wait_for_messages(student, 2, timeout=30)]
            assert any("Checked in to <b>Algebra</b>" in text for text in replies), replies
        fake.send_message(TEACHER, "/end_session")
        messages = fake.wait_for_messages(TEACHER, 4, timeout=30)  # card, ended, summary, CSV
        summary = next(m for m in messages if "Summary" in m.params.get("text", ""))
        assert "Checked in: <b>30</b>" in summary.params["text"]
        for student in STUDENTS:
            assert escape(name_of(student)) in summary.params["text"]
        document = messages[-1]
        assert document.method == "sendDocument"
        attached = b"".join(document.files.values()).decode()
        assert len(list(csv.reader(io.StringIO(attached)))) == 31
        assert len([m for m in fake.messages_to(TEACHER) if "Summary" in (m.text or "")]) == 1
    finally:
        code_ = bot.stop()
    assert code_ == 0, bot.log()[-3000:]
    assert TOKEN not in bot.log() and TOKEN.split(":")[1] not in bot.log()

    export = bot.cli("export", "--all")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert len(rows) == 30
    assert {int(r["student_id"]) for r in rows} == set(STUDENTS)
    assert all(r["status"] == "present" and "+00:00" in r["checked_in_at"] for r in rows)
