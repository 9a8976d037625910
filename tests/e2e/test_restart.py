"""Stopping `attn run` mid-session (cleanly, then with kill -9) loses no acknowledged check-in."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.e2e.conftest import TEACHER, BotProcess, bot_env, wait_until_polling
from tests.fakes.botapi import FakeBotApi


def test_check_ins_survive_restarts_of_the_bot(fake: FakeBotApi, tmp_path: Path) -> None:
    env = bot_env(fake, tmp_path / "data")
    bot = BotProcess(env, tmp_path / "bot.log").start()
    wait_until_polling(fake, bot)
    fake.send_message(TEACHER, "/start_session 30 Chemistry")
    [card] = fake.wait_for_messages(TEACHER, 1, timeout=30)
    match = re.search(r"<code>([A-Z0-9]{6})</code>", card.text or "")
    assert match is not None
    code = match[1]
    for student in range(9001, 9011):
        fake.send_message(student, f"/checkin {code}")
    for student in range(9001, 9011):
        fake.wait_for_messages(student, 1, timeout=30)
    assert bot.stop(signal.SIGTERM) == 0

    fake.clear_calls()
    bot = BotProcess(env, tmp_path / "bot.log").start()
    wait_until_polling(fake, bot)
    for student in range(9011, 9021):
        fake.send_message(student, f"/checkin {code}")
    for student in range(9011, 9021):
        [reply] = fake.wait_for_messages(student, 1, timeout=30)
        assert "Checked in" in (reply.text or "")
    bot.stop(signal.SIGKILL)

    fake.clear_calls()
    bot = BotProcess(env, tmp_path / "bot.log").start()
    try:
        wait_until_polling(fake, bot)
        fake.send_message(9001, f"/checkin {code}")
        [dup] = fake.wait_for_messages(9001, 1, timeout=30)
        assert "already checked in" in (dup.text or "")
        fake.send_message(TEACHER, "/end_session")
        fake.wait_for(
            lambda f: any("Summary" in (m.text or "") for m in f.messages_to(TEACHER)),
            timeout=30,
        )
        summary = next(m for m in fake.messages_to(TEACHER) if "Summary" in (m.text or ""))
        assert "Checked in: <b>20</b>" in (summary.text or "")
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]
