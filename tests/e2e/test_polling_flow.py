"""A teacher and 30 students through the real `attn run` process, in polling mode."""

from __future__ import annotations

import csv
import io
import json
import re
from html import escape
from pathlib import Path

from tests.e2e.conftest import TEACHER, TOKEN, BotProcess, bot_env, wait_until_polling
from tests.e2e.webhook_support import free_port, http
from tests.fakes.botapi import FakeBotApi
from tests.support.telegram import message_update

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


def test_polling_with_a_public_url_also_runs_the_web_server(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bot_env(
        fake,
        tmp_path / "data",
        ATTN_PUBLIC_URL=base,
        ATTN_LISTEN_HOST="127.0.0.1",
        ATTN_LISTEN_PORT=str(port),
    )
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        assert fake.webhook is None  # still polling
        assert http("GET", base + "/healthz") == (200, "ok\n")
        status, ready = http("GET", base + "/readyz")
        assert status == 200 and json.loads(ready)["ready"] is True, ready
        assert http("GET", base + "/nowhere")[0] == 404
        # No webhook in polling mode: a posted update is not handled.
        update = json.dumps(message_update(TEACHER, "/start_session 15 Forged")).encode()
        assert http("POST", base + "/", update, {"Content-Type": "application/json"})[0] in (
            404,
            405,
        )
        fake.send_message(TEACHER, "/start_session 15 Optics", first_name="Tess")
        [card] = fake.wait_for_messages(TEACHER, 1, timeout=30)
        assert "Optics" in (card.text or card.params.get("caption", ""))
    finally:
        code = bot.stop()
    assert code == 0, bot.log()[-3000:]
    assert f"web server on 127.0.0.1:{port}" in bot.log()
    assert "Forged" not in str([m.params for m in fake.messages_to(TEACHER)])
