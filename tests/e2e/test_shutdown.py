"""SIGTERM in the middle of a burst of check-ins and of a sweep: out within 10 s, nothing lost."""

from __future__ import annotations

import csv
import io
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BotProcess, bot_env, wait_until_polling
from tests.e2e.webhook_support import free_port, wait_until_webhook, webhook_env
from tests.fakes.botapi import FakeBotApi

BURST_TEACHER = 7001
SWEEP_TEACHER = 7002
SWEEP_STUDENTS = list(range(20001, 20041))
BURST_STUDENTS = list(range(30001, 30301))


def code_in(fake: FakeBotApi, teacher: int) -> str:
    [card] = fake.wait_for_messages(teacher, 1, timeout=30)
    match = re.search(r"<code>([A-Z0-9]{6})</code>", card.text or "")
    assert match is not None, card.text
    return match[1]


def checked_in(fake: FakeBotApi, students: list[int]) -> set[int]:
    return {s for s in students if any("Checked in" in t for t in fake.texts_to(s))}


def summaries_to(fake: FakeBotApi, teacher: int) -> list[str]:
    return [t for t in fake.texts_to(teacher) if "Summary" in t]


def start(fake: FakeBotApi, env: dict[str, str], log: Path) -> BotProcess:
    bot = BotProcess(env, log).start()
    if "ATTN_WEBHOOK_URL" in env:
        wait_until_webhook(fake, bot)
    else:
        wait_until_polling(fake, bot)
    return bot


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_sigterm_during_a_burst_and_a_sweep(fake: FakeBotApi, tmp_path: Path, mode: str) -> None:
    extra = {
        "ATTN_TEACHER_IDS": f"{BURST_TEACHER},{SWEEP_TEACHER}",
        "ATTN_SWEEP_LEASE_SECONDS": "3",
    }
    if mode == "webhook":
        env = webhook_env(fake, tmp_path / "data", free_port(), **extra)
    else:
        env = bot_env(fake, tmp_path / "data", **extra)
    bot = start(fake, env, tmp_path / "bot.log")

    fake.send_message(SWEEP_TEACHER, "/start_session 30 Swept")
    sweep_code = code_in(fake, SWEEP_TEACHER)
    for student in SWEEP_STUDENTS:
        fake.send_message(student, f"/checkin {sweep_code}")
    fake.wait_for(lambda f: checked_in(f, SWEEP_STUDENTS) == set(SWEEP_STUDENTS), timeout=30)
    fake.send_message(BURST_TEACHER, "/start_session 30 Burst")
    burst_code = code_in(fake, BURST_TEACHER)

    # The sweep persists "Swept" and then waits to send its summary behind the burst's replies
    # (python-telegram-bot's rate limiter lets about 30 messages a second out).
    fake.send_message(SWEEP_TEACHER, "/end_session")
    for student in BURST_STUDENTS:
        fake.send_message(student, f"/checkin {burst_code}")
    fake.wait_for(
        lambda f: (
            len(checked_in(f, BURST_STUDENTS)) >= 30
            and f"persisted with {len(SWEEP_STUDENTS)} check-ins" in bot.log()
        ),
        timeout=60,
    )
    replied_before = checked_in(fake, BURST_STUDENTS)
    assert len(replied_before) < len(BURST_STUDENTS)  # the burst is still going

    started = time.monotonic()
    code = bot.stop(signal.SIGTERM, timeout=30)
    stopped_in = time.monotonic() - started
    first_log = bot.log()
    assert code == 0, first_log[-3000:]
    assert stopped_in < 10, (stopped_in, first_log[-3000:])
    replied = checked_in(fake, BURST_STUDENTS)

    bot = start(fake, env, tmp_path / "bot.log")
    try:
        # Updates the first process never took are still waiting; this one handles them.
        fake.wait_for(lambda f: not f.pending_updates, timeout=60)
        fake.send_message(BURST_TEACHER, "/end_session")
        fake.wait_for(lambda f: bool(summaries_to(f, BURST_TEACHER)), timeout=60)
        fake.wait_for(lambda f: bool(summaries_to(f, SWEEP_TEACHER)), timeout=60)
        [burst_summary] = summaries_to(fake, BURST_TEACHER)
        assert f"Checked in: <b>{len(BURST_STUDENTS)}</b>" in burst_summary
        # At least once: exactly once unless the stop fell between sending and marking it sent.
        for summary in summaries_to(fake, SWEEP_TEACHER):
            assert f"Checked in: <b>{len(SWEEP_STUDENTS)}</b>" in summary
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]

    export = bot.cli("export", "--all")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    by_title: dict[str, set[int]] = {}
    for row in rows:
        if row["status"] in ("present", "late"):
            by_title.setdefault(row["session_title"], set()).add(int(row["student_id"]))
    assert by_title["Swept"] == set(SWEEP_STUDENTS)
    # Every acknowledged check-in is there, and so is every other one: none was lost.
    assert replied <= by_title["Burst"]
    assert by_title["Burst"] == set(BURST_STUDENTS)
    print(
        f"{mode}: stopped in {stopped_in:.1f} s; burst replies: {len(replied_before)} "
        f"before SIGTERM, {len(replied)} by exit"
    )
