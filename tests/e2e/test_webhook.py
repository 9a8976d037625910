"""Webhook mode through the real `attn run` process: Telegram's POSTs, the secret, the probes."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import time
from pathlib import Path

from tests.e2e.conftest import TEACHER, TOKEN, BotProcess
from tests.e2e.webhook_support import (
    HOOK_PATH,
    SECRET,
    free_port,
    http,
    metric,
    wait_until_webhook,
    webhook_env,
)
from tests.fakes.botapi import FakeBotApi
from tests.support.telegram import message_update

STUDENTS = list(range(8101, 8126))
INTRUDER = 8999


def test_webhook_mode_end_to_end(fake: FakeBotApi, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = BotProcess(webhook_env(fake, tmp_path / "data", port), tmp_path / "bot.log").start()
    stopped_in = None
    try:
        wait_until_webhook(fake, bot)
        assert http("GET", base + "/healthz")[0] == 200
        hook = fake.webhook
        assert hook is not None
        assert hook.url == base + HOOK_PATH and hook.secret_token == SECRET
        assert not fake.calls_of("getUpdates")

        fake.send_message(TEACHER, "/start_session 15 Webhooks", first_name="Tess")
        [card] = fake.wait_for_messages(TEACHER, 1, timeout=30)
        code = re.search(r"<code>([A-Z0-9]{6})</code>", card.text or "")
        assert code is not None, card.params
        for student in STUDENTS:
            fake.send_message(student, f"/checkin {code[1]}", first_name=f"S{student}")
        for student in STUDENTS:
            [reply] = fake.wait_for_messages(student, 1, timeout=30)
            assert "Checked in" in (reply.text or ""), reply.text
        assert all(d.secret_token == SECRET for d in fake.webhook_deliveries)

        # Anyone can reach the port: without the secret, or with a wrong one, nothing happens.
        intruder = message_update(
            INTRUDER, f"/checkin {code[1]}", first_name="Mallory", update_id=999_999
        )
        body = json.dumps(intruder).encode()
        json_type = {"Content-Type": "application/json"}
        for headers in (
            json_type,
            {**json_type, "X-Telegram-Bot-Api-Secret-Token": "wrong-secret"},
            {**json_type, "X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
        ):
            status, _ = http("POST", base + HOOK_PATH, body, headers)
            assert status == 403
        assert http("GET", base + HOOK_PATH)[0] == 405
        assert http("POST", f"{base}/other", body, json_type)[0] == 404

        assert http("GET", base + "/healthz") == (200, "ok\n")
        status, ready = http("GET", base + "/readyz")
        assert status == 200, ready
        assert json.loads(ready) == {"ready": True, "redis": "ok", "postgresql": "ok"}

        fake.send_message(TEACHER, "/end_session")
        fake.wait_for(
            lambda f: any("Summary" in (m.text or "") for m in f.messages_to(TEACHER)),
            timeout=30,
        )
        summary = next(m for m in fake.messages_to(TEACHER) if "Summary" in (m.text or ""))
        assert f"Checked in: <b>{len(STUDENTS)}</b>" in (summary.text or "")
        assert "Mallory" not in (summary.text or "")

        status, text = http("GET", base + "/metrics")
        assert status == 200
        assert metric(text, 'attn_checkins_total{outcome="recorded"}') == len(STUDENTS)
        assert metric(text, 'attn_checkins_total{outcome="duplicate"}') == 0
        assert metric(text, "attn_updates_total") == len(STUDENTS) + 2
        assert metric(text, 'attn_errors_total{kind="webhook_forbidden"}') == 3
        assert metric(text, "attn_sweep_rows_total") == len(STUDENTS)
        assert metric(text, "attn_sweep_duration_seconds_count") >= 1
        assert fake.messages_to(INTRUDER) == []
    finally:
        started = time.monotonic()
        exit_code = bot.stop(signal.SIGTERM)
        stopped_in = time.monotonic() - started
    assert exit_code == 0, bot.log()[-3000:]
    assert stopped_in < 10, stopped_in
    log = bot.log()
    assert SECRET not in log and TOKEN not in log and TOKEN.split(":")[1] not in log

    export = bot.cli("export", "--all")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert {int(r["student_id"]) for r in rows} == set(STUDENTS)


def test_webhook_mode_refuses_to_start_without_a_secret(fake: FakeBotApi, tmp_path: Path) -> None:
    env = webhook_env(fake, tmp_path / "data", free_port())
    del env["ATTN_WEBHOOK_SECRET"]
    bot = BotProcess(env, tmp_path / "bot.log")
    result = bot.cli("run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: ATTN_WEBHOOK_SECRET is required when ATTN_WEBHOOK_URL is set"
    ]
    assert fake.calls == []

    env["ATTN_WEBHOOK_SECRET"] = "has spaces and ünïcode"
    result = BotProcess(env, tmp_path / "bot.log").cli("run")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: ATTN_WEBHOOK_SECRET must be 32-256 characters")
    assert "ünïcode" not in line

    env["ATTN_WEBHOOK_SECRET"] = "x"
    result = BotProcess(env, tmp_path / "bot.log").cli("run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: ATTN_WEBHOOK_SECRET must be at least 32 characters (it has 1); "
        'make one with python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
    ]
    assert fake.calls == []


def test_a_webhook_telegram_refuses_stops_the_start(tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN, require_https_webhook=True) as fake:
        env = webhook_env(fake, tmp_path / "data", free_port())
        bot = BotProcess(env, tmp_path / "bot.log").start()
        assert bot.proc is not None
        code = bot.proc.wait(timeout=90)
        assert code == 1, bot.log()[-3000:]
        log = bot.log()
        assert "start-up failed: Telegram did not accept the webhook URL" in log
        assert "Traceback" not in log
        assert SECRET not in log
        bot.stop()
