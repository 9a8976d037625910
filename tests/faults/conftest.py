"""Fault injection: the real `attn run` process against the fake Bot API, killed with SIGKILL,
cut off from PostgreSQL, its Redis restarted, and several of it behind nginx.

Every scenario prints its counts (acknowledged check-ins, rows in PostgreSQL, duplicates,
summaries) as it ends, and the terminal summary repeats them, so CI logs show them with or
without `-s`.

The stores are the session's `redis_url` / `database_url` (the machine's servers when
ATTN_TEST_REDIS_URL / ATTN_TEST_DATABASE_URL are set, embedded ones otherwise), emptied before
each test and handed to the bot process as ATTN_REDIS_URL / ATTN_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis

from tests.conftest import TABLES
from tests.e2e.conftest import TOKEN, BotProcess, bot_env
from tests.fakes.botapi import Call, FakeBotApi
from tests.support.emptying import delete_all_rows

SWEEP_SECONDS = 1
LEASE_SECONDS = 3
SUMMARY_MARK = "<b>Summary: "
CODE_RE = re.compile(r"<code>([A-Z0-9]{6})</code>")

_REPORT: list[str] = []


def report(scenario: str, **counts: object) -> None:
    """Print one line of counts now, and again in the terminal summary."""
    line = f"[faults] {scenario}: " + ", ".join(f"{k}={v}" for k, v in counts.items())
    print("\n" + line, flush=True)
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _REPORT:
        terminalreporter.section("fault-injection counts")
        for line in _REPORT:
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------------------------
# Stores


@dataclass
class Stores:
    redis_url: str
    database_url: str

    def _run(self, work: Callable[[asyncpg.Connection], Any]) -> Any:
        async def main() -> Any:
            conn = await asyncpg.connect(self.database_url, timeout=10)
            try:
                return await work(conn)
            finally:
                await conn.close()

        return asyncio.run(main())

    def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        return self._run(lambda conn: conn.fetch(sql, *args))  # type: ignore[no-any-return]

    def fetchval(self, sql: str, *args: object) -> Any:
        return self._run(lambda conn: conn.fetchval(sql, *args))

    def execute(self, sql: str, *args: object) -> None:
        self._run(lambda conn: conn.execute(sql, *args))

    def reset(self) -> None:
        """Empty the Redis database, apply the schema, empty every table."""
        from storage.postgres.migrate import apply_migrations

        client = self.redis()
        try:
            client.flushdb()
        finally:
            client.close()

        async def reset(conn: asyncpg.Connection) -> None:
            await apply_migrations(conn)
            await delete_all_rows(conn, TABLES)

        self._run(reset)

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=10)

    def attendance(self) -> list[asyncpg.Record]:
        """Every attendance row with its session's teacher."""
        return self.fetch(
            "SELECT s.teacher_id, a.session_id, a.student_id, a.status "
            "FROM attendance a JOIN sessions s ON s.id = a.session_id"
        )

    def live_leftovers(self) -> dict[str, int]:
        """What a swept session must not leave in Redis: its keys, code routes, index entries
        and the teacher's slot (only the non-empty ones are returned)."""
        client = self.redis()
        try:
            found = {
                "session keys": len(list(client.scan_iter("attn:s:*", count=1000))),
                "code routes": len(list(client.scan_iter("attn:code:*", count=1000))),
                "teacher slots": len(list(client.scan_iter("attn:t:*", count=1000))),
                "due index": int(client.zcard("attn:due")),
                "card index": int(client.zcard("attn:cards")),
                "rotation index": int(client.zcard("attn:rotate")),
            }
        finally:
            client.close()
        return {name: count for name, count in found.items() if count}

    def checked_in_students(self) -> set[int]:
        """Students with a check-in in a live session."""
        client = self.redis()
        try:
            return {
                int(student)
                for key in client.scan_iter("attn:s:*:in")
                for student in client.hkeys(key)
            }
        finally:
            client.close()

    def marks_in_redis(self) -> int:
        """Teachers' corrections waiting in live sessions."""
        client = self.redis()
        try:
            return sum(int(client.hlen(key)) for key in client.scan_iter("attn:s:*:marks"))
        finally:
            client.close()

    def checkins_in_redis(self) -> int:
        """Check-ins recorded in live sessions (all sessions together)."""
        client = self.redis()
        try:
            return sum(int(client.hlen(key)) for key in client.scan_iter("attn:s:*:in"))
        finally:
            client.close()


@pytest.fixture
def stores(redis_url: str, database_url: str) -> Stores:
    """The session's Redis and PostgreSQL, emptied (schema applied) for this test."""
    found = Stores(redis_url, database_url)
    found.reset()
    return found


# --------------------------------------------------------------------------------------------
# The fake Bot API and the bot processes


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as api:
        yield api
        assert api.server_errors == []


@dataclass
class Bots:
    """Starts `attn run` processes for one test and kills whatever is left at its end."""

    fake: FakeBotApi
    stores: Stores
    tmp_path: Path
    started: list[BotProcess] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "ATTN_REDIS_URL": self.stores.redis_url,
            "ATTN_DATABASE_URL": self.stores.database_url,
            "ATTN_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "ATTN_SWEEP_LEASE_SECONDS": str(LEASE_SECONDS),
            "ATTN_CODE_ROTATION_SECONDS": "0",
            "ATTN_LOG_LEVEL": "INFO",
        }
        values.update(extra)
        return bot_env(self.fake, self.tmp_path / "data", **values)

    def start(self, env: dict[str, str] | None = None, name: str = "bot") -> BotProcess:
        """Start one process and wait until it polls (webhook mode: see `start_webhook`)."""
        before = len(self.fake.calls_of("getUpdates"))
        bot = self.spawn(env, name)
        wait_for(
            lambda: len(self.fake.calls_of("getUpdates")) > before,
            60,
            f"{name} to poll",
            bot,
        )
        return bot

    def spawn(self, env: dict[str, str] | None = None, name: str = "bot") -> BotProcess:
        bot = BotProcess(env or self.env(), self.tmp_path / f"{name}.log").start()
        self.started.append(bot)
        return bot

    def close(self) -> None:
        for bot in self.started:
            if bot.proc is not None and bot.proc.poll() is None:
                bot.proc.send_signal(signal.SIGKILL)
                bot.proc.wait(timeout=30)
            if not bot._log.closed:
                bot._log.close()


@pytest.fixture
def bots(fake: FakeBotApi, stores: Stores, tmp_path: Path) -> Iterator[Bots]:
    started = Bots(fake, stores, tmp_path)
    try:
        yield started
    finally:
        started.close()


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    bot: BotProcess | None = None,
    interval: float = 0.1,
) -> float:
    """Poll `predicate` until true; the seconds it took. Fails early when `bot` exits."""
    began = time.monotonic()
    while not predicate():
        if bot is not None and bot.proc is not None and bot.proc.poll() is not None:
            raise AssertionError(
                f"attn run exited ({bot.proc.returncode}) while waiting for {what}:\n"
                + bot.log()[-4000:]
            )
        if time.monotonic() - began > timeout:
            tail = bot.log()[-4000:] if bot is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
        time.sleep(interval)
    return time.monotonic() - began


def sigkill(bot: BotProcess) -> int:
    """kill -9, and wait for the process to be gone."""
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGKILL)
    code = bot.proc.wait(timeout=30)
    bot._log.close()
    return code


# --------------------------------------------------------------------------------------------
# Reading what the bot sent


def summaries(fake: FakeBotApi, teacher: int) -> list[Call]:
    return [c for c in fake.messages_to(teacher) if SUMMARY_MARK in (c.text or "")]


def summary_count(call: Call) -> int:
    match = re.search(r"Checked in: <b>(\d+)</b>", call.text or "")
    assert match is not None, call.text
    return int(match[1])


def start_session(fake: FakeBotApi, teacher: int, title: str, bot: BotProcess) -> str:
    """The teacher opens a 30-minute session; returns the code on its card."""
    before = len(fake.messages_to(teacher))
    fake.send_message(teacher, f"/start_session 30 {title}", first_name=f"T{teacher}")
    wait_for(lambda: len(fake.messages_to(teacher)) > before, 30, "the session card", bot)
    card = fake.messages_to(teacher)[before]
    match = CODE_RE.search(card.text or "")
    assert match is not None, card.params
    return match[1]


def acknowledged(fake: FakeBotApi, students: list[int] | range) -> set[int]:
    """Students the bot told "Checked in" (or "already checked in")."""
    wanted = set(students)
    return {
        int(c.chat_id)  # type: ignore[arg-type]
        for c in fake.calls_of("sendMessage", ok_only=True)
        if c.chat_id in wanted and "hecked in to" in (c.text or "")
    }


def check_ins_acknowledged(fake: FakeBotApi, students: list[int] | range) -> set[int]:
    """Students told "✅ Checked in" (a first check-in recorded), not "already"."""
    wanted = set(students)
    return {
        int(c.chat_id)  # type: ignore[arg-type]
        for c in fake.calls_of("sendMessage", ok_only=True)
        if c.chat_id in wanted and "Checked in to" in (c.text or "")
    }
