"""Issue 3 end to end: a course, 30 students joining by invite link, late and absent lists."""

from __future__ import annotations

import csv
import io
import re
import time
from html import escape
from pathlib import Path

from tests.e2e.conftest import (
    TEACHER,
    BotProcess,
    bot_env,
    current_code,
    wait_until_polling,
)
from tests.fakes.botapi import FakeBotApi

STUDENTS = list(range(30_001, 30_031))
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah"]
LAST = ["Okafor", "Lindqvist", "García", "O'Neil", "Nguyen"]


def name_of(student: int) -> str:
    i = student - STUDENTS[0]
    return f"{FIRST[i % 6]} {LAST[i // 6]}"


def test_course_session_with_late_and_absent_students(fake: FakeBotApi, tmp_path: Path) -> None:
    bot = BotProcess(bot_env(fake, tmp_path / "data"), tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(TEACHER, "/new_course Algebra")
        [created] = fake.wait_for_messages(TEACHER, 1, timeout=30)
        link = re.search(r"\?start=(join_[A-Za-z0-9_-]+)", created.text or "")
        assert link, created.text
        fake.send_message(TEACHER, "/course_settings Algebra late 1")
        fake.wait_for_messages(TEACHER, 2, timeout=30)

        for student in STUDENTS:  # opening the invite link sends "/start join_..."
            fake.send_message(student, f"/start {link[1]}")
        for student in STUDENTS:
            fake.wait_for_messages(student, 2, timeout=30)  # enrolled + "what is your name?"
            fake.send_message(student, name_of(student))
        for student in STUDENTS:
            fake.wait_for_messages(student, 3, timeout=30)

        fake.send_message(TEACHER, "/start_session Algebra 10 Week 1")
        card = fake.wait_for_messages(TEACHER, 3, timeout=30)[-1]
        started = time.monotonic()
        code = re.search(r"<code>([A-Z0-9]{6})</code>", card.text or "")
        assert code, card.text
        on_time, late, absent = STUDENTS[:22], STUDENTS[22:25], STUDENTS[25:]
        for student in on_time:
            fake.send_message(student, f"/checkin {current_code(fake, TEACHER)}")
        for student in on_time:
            texts = [m.text or "" for m in fake.wait_for_messages(student, 4, timeout=30)]
            assert "Checked in" in texts[-1] and "late" not in texts[-1], texts
        time.sleep(max(0.0, 61 - (time.monotonic() - started)))
        for student in late:  # the code has rotated meanwhile: the card shows the new one
            fake.send_message(student, f"/checkin {current_code(fake, TEACHER)}")
        for student in late:
            texts = [m.text or "" for m in fake.wait_for_messages(student, 4, timeout=30)]
            assert "(late)" in texts[-1], texts

        fake.send_message(TEACHER, "/end_session")
        fake.wait_for(
            lambda f: any(m.method == "sendDocument" for m in f.messages_to(TEACHER)), timeout=30
        )
        summary = next(
            m.text or "" for m in fake.messages_to(TEACHER) if "Summary" in (m.text or "")
        )
        assert "Checked in: <b>25</b>" in summary
        assert "Present 22 · Late 3 · Absent 5 · Excused 0" in summary
        late_line = next(line for line in summary.split("\n") if line.startswith("<b>Late:"))
        absent_line = next(line for line in summary.split("\n") if line.startswith("<b>Absent:"))
        assert all(escape(name_of(s)) in late_line for s in late)
        assert all(escape(name_of(s)) in absent_line for s in absent)
        document = next(m for m in fake.messages_to(TEACHER) if m.method == "sendDocument")
        rows = list(csv.DictReader(io.StringIO(b"".join(document.files.values()).decode())))
        assert len(rows) == 30
        statuses = {int(r["student_id"]): r["status"] for r in rows}
        assert [statuses[s] for s in late] == ["late"] * 3
        assert [statuses[s] for s in absent] == ["absent"] * 5
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]
