"""The measurements, each next to its bare baseline in the same run.

Why baselines: an absolute rate says more about the machine than about ATTN. Every product
number here is paired with the cheapest thing that could do the same job on the same servers
and client settings (one EVALSHA; a one-EVALSHA handler; a bare COPY), measured in interleaved
repetitions, so the ratio shows what ATTN's own code costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT
from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CommandHandler,
    Defaults,
    filters,
)

from bench.claims import claim_bytes, former_key_bytes
from bench.fake_telegram import (
    REPLY_TIMEOUT_SECONDS,
    TOKEN,
    FloodLimit,
    InMemoryBotApi,
    checkin_update,
)
from bench.measure import Run, Series, gather_all, percentile, run_concurrent
from bot.app import build_application
from bot.container import Services
from bot.context import SERVICES_KEY, AttnContext
from bot.heap import freeze_startup_heap
from bot.jobs import deliver_summaries_task, sweep_attendances_task
from bot.replying import reply_unread
from bot.settings import Settings
from services.models import CheckInOutcome, Session, UserProfile
from storage.redis import keys
from storage.redis.scripts import LuaScript

# Any Application: the bot's own (typed for AttnContext) or the bench's one-handler baseline.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

log = logging.getLogger(__name__)

# A script that does nothing, called with the check-in's keys and arguments: the cost of one
# EVALSHA round trip through the same client and pool, and nothing else.
TRIVIAL_SCRIPT = "return 1"

# Telegram user ids are 10 digits today; each phase has its own block so profiles cached by
# one phase never make another phase's "first contact" path warm.
SERVICE_STUDENTS = 7_000_000_000
UPDATE_STUDENTS = 7_100_000_000
SWEEP_STUDENTS = 7_200_000_000
BURST_STUDENTS = 7_300_000_000
WARMUP_STUDENTS = 7_400_000_000
CLAIM_STUDENTS = 7_500_000_000
CHAT_BURST_STUDENTS = 7_600_000_000
STRICT_STUDENTS = 7_150_000_000  # (the updates use UPDATE_STUDENTS + rep * BLOCK)
BLOCK = 1_000_000

TEACHER_BASE = 1_000_000_000
TEACHER_COUNT = 5_000
SESSION_MINUTES = 240

# The COPY baselines' twins of `attendance`: the same columns, keys, index and check, and
# for COPY_TABLE also its foreign key to `sessions` (checked row by row, as for the sweep's
# own rows); COPY_TABLE_WITHOUT_FK, for information, has no foreign key.
COPY_TABLE = "bench_copy_attendance"
COPY_TABLE_WITHOUT_FK = "bench_copy_attendance_without_fk"
COPY_COLUMNS = ["session_id", "student_id", "status", "checked_in_at", "distance_m"]
RECORD_TABLES = ["attendance", "summary_outbox", "sessions", COPY_TABLE, COPY_TABLE_WITHOUT_FK]

# After closing the pool's connections, a moment for Redis to free them (and for lazy frees).
MEMORY_SETTLE_SECONDS = 0.5


class BenchError(RuntimeError):
    """A measurement did not do what it claims (lost check-ins, wrong outcomes)."""


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does."""

    checkins: int
    updates: int
    sweep_sessions: int
    sweep_per_session: int
    burst: int
    concurrency: int
    reps: int
    claims_burst: bool  # also measure update claims' worst case (bench/claims.py)
    # Repetitions of the chat burst under an imposed limit (each lasts ~35 s).
    limited_reps: int = 3


FULL = Sizes(
    checkins=10_000,
    updates=5_000,
    sweep_sessions=100,
    sweep_per_session=1_000,
    burst=1_000,
    concurrency=100,
    reps=3,
    claims_burst=True,
)
# Quick keeps 1,000 check-ins per swept session: below Redis's hash-max-listpack-entries (512
# by default) a session's hash is stored compactly, which would flatter the memory number.
QUICK = Sizes(
    checkins=2_000,
    updates=1_000,
    sweep_sessions=8,
    sweep_per_session=1_000,
    burst=1_000,
    concurrency=100,
    reps=3,
    claims_burst=False,
    limited_reps=1,
)

# What the chat burst imposes for `chat_burst_1000_limited_last_reply_s`: Telegram's
# documented ~30 messages a second overall and one a second per chat.
IMPOSED_LIMIT = FloodLimit(per_second=30, per_chat_per_second=1)
# The chat burst under the limit takes ~34 s; give it room on a busy machine.
LIMITED_TIMEOUT_SECONDS = 180.0


def teacher_ids() -> list[int]:
    """Teachers the bench may use: a teacher holds one open session, so each session needs one."""
    return list(range(TEACHER_BASE, TEACHER_BASE + TEACHER_COUNT))


def bench_settings() -> Settings:
    """Production defaults, except the token, the teachers, the sweep (the bench drives it)
    and the process-wide update pacing (see below)."""
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "teacher_ids": teacher_ids(),
        "admin_ids": [],
        "telegram_api_url": None,
        "session_minutes": SESSION_MINUTES,
        "sweep_seconds": 3600,
        "sweep_lease_seconds": 60,
        "redis_max_connections": 300,
        "database_pool_size": 10,
        # The process-wide update pacing (500/s by default) would cap the update numbers at
        # its setting; the bench measures what the code can do, so the pacing never waits.
        # The limiter still runs (and costs what it costs) on every update.
        "global_rate_per_second": 1_000_000,
        "timezone": "UTC",
        "log_level": "WARNING",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


_STORED_MS = re.compile(r"(\d+)")  # a check-in value is "<ms><p|l>[ <more>]" (storage.redis.keys)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stored_ms(value: object) -> int:
    """The check-in time (ms) stored in a check-in hash value."""
    found = _STORED_MS.match(_text(value))
    if found is None:
        raise BenchError(f"unexpected check-in value {value!r}")
    return int(found.group(1))


# check_in.lua's compact reply starts with 7 (recorded, present) or 8 (recorded, late).
_RECORDED_REPLIES = (7, 8)


def _records(reply: object) -> bool:
    """True when a script's reply is a recorded check-in: check_in.lua's, or the one-step
    visit and check-in's ({the visit, check_in.lua's reply}, see storage/redis/scripts.py)."""
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[0], list):
        reply = reply[1]
    return isinstance(reply, list) and bool(reply) and reply[0] in _RECORDED_REPLIES


class Bench:
    """Runs the measurements on one set of services; collects series and side notes."""

    def __init__(self, services: Services, settings: Settings, sizes: Sizes) -> None:
        self.services = services
        self.settings = settings
        self.sizes = sizes
        self.series: dict[str, Series] = defaultdict(Series)
        self.notes: list[tuple[str, str]] = []
        self._teachers: Iterator[int] = iter(teacher_ids())
        self._api = InMemoryBotApi()
        self._app: AnyApplication | None = None
        self._trivial_sha = ""
        self.disturbed = 0

    # --- set-up -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Bench]:
        """The real Application (handlers, defaults, context) around the bench's services."""
        services = self.services

        async def factory() -> Services:
            return services

        app = build_application(
            self.settings, factory, request=self._api, rate_limiter=False, schedule=False
        )
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        self._app = app
        self._trivial_sha = _text(await services.redis.script_load(TRIVIAL_SCRIPT))
        await self._create_copy_table()
        freeze_startup_heap()  # as `attn run` does once started (bot/heap.py)
        try:
            yield self
        finally:
            app.bot_data.pop(SERVICES_KEY, None)  # the caller owns and closes the services
            await app.shutdown()

    @property
    def app(self) -> AnyApplication:
        assert self._app is not None
        return self._app

    async def new_session(self) -> Session:
        teacher = next(self._teachers)
        return await self.services.sessions.start_session(
            teacher, teacher, SESSION_MINUTES, "Bench lecture"
        )

    async def _create_copy_table(self) -> None:
        async with self.services.pool.acquire() as conn:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {COPY_TABLE} (LIKE attendance INCLUDING ALL,"
                " FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE)"
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {COPY_TABLE_WITHOUT_FK}"
                " (LIKE attendance INCLUDING ALL)"
            )

    async def _truncate_records(self) -> None:
        async with self.services.pool.acquire() as conn:
            await conn.execute(f"TRUNCATE {', '.join(RECORD_TABLES)} CASCADE")

    async def _register(self, students: Sequence[int]) -> None:
        """Rows in `users` for these students: returning students whose cache was swept."""
        now = datetime.now(UTC)
        async with self.services.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO users (id, first_name, last_name, username, full_name, last_seen)"
                " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[],"
                " $5::text[], $6::timestamptz[]) ON CONFLICT (id) DO NOTHING",
                list(students),
                [f"Student{s % 100000}" for s in students],
                ["Bench"] * len(students),
                [f"s{s}" for s in students],
                [f"Student {s % 100000} Bench" for s in students],
                [now] * len(students),
            )

    async def _cache_profiles(self, students: Sequence[int]) -> None:
        """Cached profiles, as every student who checked in through the bot has one."""
        live = self.services.live.profiles
        now = datetime.now(UTC)

        async def store(i: int) -> None:
            s = students[i]
            await live.store_profile(
                UserProfile(
                    user_id=s,
                    first_name=f"Student{s % 100000}",
                    last_name="Bench",
                    username=f"s{s}",
                    full_name=f"Student {s % 100000} Bench",
                    last_seen=now,
                )
            )

        await run_concurrent(len(students), self.sizes.concurrency, store)

    async def _reset_live_sessions(self) -> None:
        """Remove every live-session key (sessions, codes, slots, indexes); keep user profiles."""
        redis = self.services.redis
        batch: list[Any] = []
        async for key in redis.scan_iter(match="attn:*", count=1000):
            name = _text(key)
            if name.startswith("attn:u:") or name == keys.seen_index():
                continue
            batch.append(key)
            if len(batch) >= 500:
                await redis.delete(*batch)
                batch.clear()
        if batch:
            await redis.delete(*batch)

    async def _checkin_count(self, session: Session) -> int:
        return int(await self.services.redis.hlen(keys.session_checkins(session.id)))

    async def _expect_recorded(self, session: Session, expected: int, what: str) -> None:
        count = await self._checkin_count(session)
        if count != expected:
            raise BenchError(f"{what}: {count} check-ins recorded, expected {expected}")

    # --- check-ins through the service layer vs a bare EVALSHA ----------------------------

    async def _service_run(self, session: Session, students: Sequence[int]) -> Run:
        check_in = self.services.checkins.check_in
        code = session.code

        async def one(i: int) -> None:
            result = await check_in(students[i], code)
            if result.outcome is not CheckInOutcome.RECORDED:
                raise BenchError(f"service check-in answered {result.outcome}")

        run = await run_concurrent(len(students), self.sizes.concurrency, one)
        await self._expect_recorded(session, len(students), "service check-ins")
        return run

    async def _raw_run(self, session: Session, students: Sequence[int]) -> Run:
        redis = self.services.redis
        sha = self._trivial_sha
        key_session, key_checkins = keys.session(session.id), keys.session_checkins(session.id)
        code = session.code
        now_ms = int(time.time() * 1000)

        async def one(i: int) -> None:
            reply = await redis.evalsha(
                sha, 2, key_session, key_checkins, code, students[i], now_ms
            )
            if reply != 1:
                raise BenchError(f"trivial script answered {reply!r}")

        return await run_concurrent(len(students), self.sizes.concurrency, one)

    async def measure_checkins(self) -> None:
        """`checkin_service_per_s`, `raw_evalsha_per_s`, `checkin_p50_ms`, `checkin_p99_ms`."""
        n = self.sizes.checkins
        students = [SERVICE_STUDENTS + i for i in range(n)]
        warm = await self.new_session()
        await self._service_run(warm, students[: min(n, 2_000)])
        await self._raw_run(warm, students[: min(n, 2_000)])
        for rep in range(self.sizes.reps):
            session = await self.new_session()
            if rep % 2 == 0:  # alternate the order so drift hits both alike
                service = await self._service_run(session, students)
                raw = await self._raw_run(session, students)
            else:
                raw = await self._raw_run(session, students)
                service = await self._service_run(session, students)
            self.series["checkin_service_per_s"].add(service.per_second)
            self.series["raw_evalsha_per_s"].add(raw.per_second)
            self.series["checkin_p50_ms"].add(percentile(service.latencies, 50) * 1000)
            self.series["checkin_p99_ms"].add(percentile(service.latencies, 99) * 1000)
            self.series["raw_p99_ms"].add(percentile(raw.latencies, 99) * 1000)
            log.info(
                "check-ins rep %d: service %.0f/s, raw %.0f/s",
                rep + 1,
                service.per_second,
                raw.per_second,
            )
        self.notes.append(
            ("raw EVALSHA p99 latency (ms, median)", f"{self.series['raw_p99_ms'].median:.2f}")
        )

    # --- /checkin updates through the Application vs a one-EVALSHA handler ----------------

    def _baseline_app(
        self, api: InMemoryBotApi, session: Session, *, unread_reply: bool = False
    ) -> AnyApplication:
        """An Application with one handler: one EVALSHA of the trivial script, one reply
        (`reply_text`; with `unread_reply`, sent as ATTN sends a confirmation: without
        building the `Message` Telegram answers with)."""
        redis = self.services.redis
        sha = self._trivial_sha
        key_session, key_checkins = keys.session(session.id), keys.session_checkins(session.id)
        app: AnyApplication = (
            ApplicationBuilder()
            .token(TOKEN)
            .request(api)
            .get_updates_request(api)
            .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=self.settings.tz))
            .concurrent_updates(True)
            .build()
        )

        async def checkin(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
            user, message = update.effective_user, update.effective_message
            assert user is not None and message is not None
            code = "".join(context.args or [])
            now_ms = int(time.time() * 1000)
            await redis.evalsha(sha, 2, key_session, key_checkins, code, user.id, now_ms)
            if unread_reply:
                await reply_unread(message, "✅ Checked in to <b>Bench lecture</b> at 09:00.")
            else:
                await message.reply_text("✅ Checked in to <b>Bench lecture</b> at 09:00.")

        app.add_handler(CommandHandler("checkin", checkin, filters=filters.UpdateType.MESSAGE))
        return app

    async def _updates_run(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        api: InMemoryBotApi,
        updates: Sequence[Update],
    ) -> Run:
        """Process the updates 100 at a time; done when every one of them has been answered."""
        process = app.process_update
        expected = api.messages_sent + len(updates)

        async def one(i: int) -> None:
            await process(updates[i])

        run = await run_concurrent(len(updates), self.sizes.concurrency, one)
        started = time.perf_counter()
        try:
            await api.wait_for_messages(expected)
        except TimeoutError as exc:
            raise BenchError("not every update was answered") from exc
        run.seconds += time.perf_counter() - started
        if api.messages_sent != expected:
            raise BenchError("some update was answered more than once")
        return run

    async def _real_updates(self, session: Session, students: Sequence[int]) -> Run:
        updates = [checkin_update(self.app.bot, s, session.code) for s in students]
        run = await self._updates_run(self.app, self._api, updates)
        # What the updates left running in the background (registered names merged back
        # into the profiles they cached) is their work too: timed here, not left to slow
        # down whatever runs next (the baseline, every other repetition).
        started = time.perf_counter()
        await self.services.users.settle()
        run.seconds += time.perf_counter() - started
        await self._expect_recorded(session, len(students), "/checkin updates")
        return run

    async def measure_updates(self) -> None:
        """`updates_per_s`, `baseline_updates_per_s`."""
        n = self.sizes.updates
        base_api = InMemoryBotApi()
        base_session = await self.new_session()
        base_app = self._baseline_app(base_api, base_session)
        await base_app.initialize()
        try:
            warm_students = [WARMUP_STUDENTS + i for i in range(min(n, 500))]
            await self._register(warm_students)
            await self._real_updates(await self.new_session(), warm_students)
            base_updates = [
                checkin_update(base_app.bot, SERVICE_STUDENTS + i, base_session.code)
                for i in range(n)
            ]
            await self._updates_run(base_app, base_api, base_updates[:500])
            students: list[int] = []
            for rep in range(self.sizes.reps):
                students = [UPDATE_STUDENTS + rep * BLOCK + i for i in range(n)]
                await self._register(students)
                session = await self.new_session()
                if rep % 2 == 0:  # alternate the order so drift hits both alike
                    real = await self._real_updates(session, students)
                    base = await self._updates_run(base_app, base_api, base_updates)
                else:
                    base = await self._updates_run(base_app, base_api, base_updates)
                    real = await self._real_updates(session, students)
                self.series["updates_per_s"].add(real.per_second)
                self.series["baseline_updates_per_s"].add(base.per_second)
                self.series["updates_p99_ms"].add(percentile(real.latencies, 99) * 1000)
                log.info(
                    "updates rep %d: real %.0f/s, baseline %.0f/s",
                    rep + 1,
                    real.per_second,
                    base.per_second,
                )
            # Once more with the last students, whose profiles are now cached in Redis.
            warm_run = await self._real_updates(await self.new_session(), students)
            self.notes.append(
                ("updates/s, profiles already cached (1 run)", f"{warm_run.per_second:.0f}")
            )
            self.notes.append(
                (
                    "/checkin update p99 (ms, median; until process_update returned)",
                    f"{self.series['updates_p99_ms'].median:.2f}",
                )
            )
        finally:
            await base_app.shutdown()
        await self._stricter_baseline(n)

    async def _stricter_baseline(self, n: int) -> None:
        """For information: the baseline sending its reply as ATTN sends a confirmation
        (no `Message` built from Telegram's answer), against ATTN on new students, two runs
        each, alternating. The target is read against `reply_text`, the issue's baseline."""
        api = InMemoryBotApi()
        session = await self.new_session()
        app = self._baseline_app(api, session, unread_reply=True)
        await app.initialize()
        try:
            updates = [
                checkin_update(app.bot, SERVICE_STUDENTS + i, session.code) for i in range(n)
            ]
            await self._updates_run(app, api, updates[:500])
            real_rates, base_rates = [], []
            for rep in range(2):
                students = [STRICT_STUDENTS + rep * BLOCK + i for i in range(n)]
                await self._register(students)
                real_session = await self.new_session()
                if rep % 2 == 0:
                    real = await self._real_updates(real_session, students)
                    base = await self._updates_run(app, api, updates)
                else:
                    base = await self._updates_run(app, api, updates)
                    real = await self._real_updates(real_session, students)
                real_rates.append(real.per_second)
                base_rates.append(base.per_second)
            ratio = sum(real_rates) / sum(base_rates)
            self.notes.append(
                (
                    "updates: baseline replying without building the Message (2 runs): "
                    "baseline/s, ATTN/s, ratio",
                    f"{sum(base_rates) / 2:.0f}, {sum(real_rates) / 2:.0f}, {ratio:.2f}",
                )
            )
        finally:
            await app.shutdown()

    # --- Redis memory per check-in, then the sweep vs a bare COPY --------------------------

    async def used_memory(self) -> tuple[int, int]:
        """(`used_memory`, bytes of the bench's own database), with the pool's connections closed.

        Why close them: each connection's query and reply buffers (up to tens of KB, trimmed
        by Redis only after a while) are in `used_memory`, and 100 busy connections would add
        megabytes that have nothing to do with check-ins. The pool reconnects on next use.
        The second number (`_db_bytes`) does not move when other clients use other databases.
        """
        redis = self.services.redis
        if isinstance(redis, Redis):  # the bench runs standalone; a cluster has no one pool
            await redis.connection_pool.disconnect()
        await asyncio.sleep(MEMORY_SETTLE_SECONDS)
        info = await redis.info("memory")
        return int(info["used_memory"]), await self._db_bytes()

    async def _db_bytes(self) -> int:
        """MEMORY USAGE of every key of the bench's database plus its hash tables' overhead."""
        redis = self.services.redis
        total = 0
        batch: list[Any] = []

        async def measure() -> int:
            async with redis.pipeline(transaction=False) as pipe:
                for key in batch:
                    pipe.memory_usage(key, samples=0)
                sizes = await pipe.execute()
            batch.clear()
            return sum(int(size or 0) for size in sizes)

        async for key in redis.scan_iter(count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                total += await measure()
        if batch:
            total += await measure()
        db = 0
        if isinstance(redis, Redis):
            db = int(redis.connection_pool.connection_kwargs.get("db", 0) or 0)
        stats = {_text(k): v for k, v in (await redis.memory_stats()).items()}
        overhead = stats.get(f"db.{db}") or {}
        if isinstance(overhead, list):  # RESP2 without a callback: a flat list
            overhead = dict(zip(overhead[::2], overhead[1::2], strict=True))
        for name, value in overhead.items():
            if _text(name).startswith("overhead.hashtable"):
                total += int(value)
        return total

    async def _key_bytes(self, sessions: Sequence[Session]) -> int:
        redis = self.services.redis
        total = 0
        for session in sessions:
            for key in (*keys.session_keys(session.id), keys.code(session.code)):
                total += int(await redis.memory_usage(key, samples=0) or 0)
        return total

    async def _sweep_all(self, expected_rows: int) -> Run:
        sweeper = self.services.sweeper
        rows = 0
        started = time.perf_counter()
        while rows < expected_rows:
            report = await sweeper.sweep_attendances()
            if report.sessions_persisted == 0:
                raise BenchError(f"sweep stalled at {rows}/{expected_rows} rows: {report}")
            rows += report.rows_written
        seconds = time.perf_counter() - started
        if rows != expected_rows:
            raise BenchError(f"sweep wrote {rows} rows, expected {expected_rows}")
        return Run(items=rows, seconds=seconds)

    async def _copy_all(self) -> tuple[Run, Run]:
        """The swept rows again, one COPY per session (the sweep's unit) into each twin table:
        (with the foreign key to `sessions`, as `attendance` has; without it)."""
        async with self.services.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT session_id, student_id, status, checked_in_at, distance_m FROM attendance"
            )
            by_session: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for row in rows:
                by_session[row["session_id"]].append(tuple(row))
            runs = []
            for table in (COPY_TABLE, COPY_TABLE_WITHOUT_FK):
                started = time.perf_counter()
                for records in by_session.values():
                    await conn.copy_records_to_table(table, records=records, columns=COPY_COLUMNS)
                runs.append(Run(items=len(rows), seconds=time.perf_counter() - started))
        return runs[0], runs[1]

    async def _deliver_left_summaries(self, rows: int) -> None:
        """Time the job callback on the last repetition's outbox: summaries with their CSVs.

        `sweep_attendances_task` persists (nothing is left to persist here) and
        `deliver_summaries_task` delivers up to 20 summaries per run; they run until the
        outbox is empty. Reported as a note:
        the JSON's sweep numbers are `sweep_attendances()` alone.
        """
        context = AttnContext(application=self.app)
        pending = "SELECT count(*) FROM summary_outbox WHERE sent_at IS NULL"
        summaries = int(await self.services.pool.fetchval(pending))
        started = time.perf_counter()
        for _ in range(summaries + 1):
            if not await self.services.pool.fetchval(pending):
                break
            await sweep_attendances_task(context)
            await deliver_summaries_task(context)
        seconds = time.perf_counter() - started
        if await self.services.pool.fetchval(pending):
            raise BenchError("sweep_attendances_task left summaries undelivered")
        sweep_seconds = rows / self.series["sweep_rows_per_s"].values[-1]
        self.notes.append(
            (
                "sweep_attendances_task: summaries (text + CSV) delivered/s",
                f"{summaries / seconds:.1f}",
            )
        )
        self.notes.append(
            (
                "sweep_attendances_task end to end, persist + deliver (rows/s, last rep)",
                f"{rows / (sweep_seconds + seconds):.0f}",
            )
        )

    async def measure_memory_and_sweep(self) -> None:
        """`redis_bytes_per_checkin`, `sweep_rows_per_s`, `copy_rows_per_s`."""
        count, per = self.sizes.sweep_sessions, self.sizes.sweep_per_session
        total = count * per
        students = [SWEEP_STUDENTS + i for i in range(total)]
        await self._register(students)
        await self._cache_profiles(students)
        check_in = self.services.checkins.check_in
        redis = self.services.redis
        for rep in range(self.sizes.reps):
            await self._reset_live_sessions()
            await self._truncate_records()
            before_used, before_db = await self.used_memory()
            sessions = [await self.new_session() for _ in range(count)]

            async def one(i: int, sessions: list[Session] = sessions) -> None:
                # Item i goes to session i % count: all classes check in at the same time.
                index, position = i % count, i // count
                result = await check_in(students[index * per + position], sessions[index].code)
                if result.outcome is not CheckInOutcome.RECORDED:
                    raise BenchError(f"check-in answered {result.outcome}")

            await run_concurrent(total, self.sizes.concurrency, one)
            after_used, after_db = await self.used_memory()
            key_bytes = await self._key_bytes(sessions)
            used, own = after_used - before_used, after_db - before_db
            # Other clients of a shared server move used_memory too; the bench's database
            # alone tells when that happened, and then stands in for the repetition.
            disturbed = abs(used - own) > 0.25 * own + 64 * 1024
            if disturbed:
                self.disturbed += 1
                log.warning(
                    "memory rep %d: used_memory grew %d B but the bench's database %d B; "
                    "other clients were busy, so the database figure is used",
                    rep + 1,
                    used,
                    own,
                )
            self.series["redis_bytes_per_checkin"].add((own if disturbed else used) / total)
            self.series["redis_db_bytes"].add(own / total)
            self.series["redis_key_bytes"].add(key_bytes / total)
            for session in sessions:
                await self.services.sessions.end_session(session.teacher_id)

            sweep = await self._sweep_all(total)
            left = await redis.exists(
                *[k for s in sessions for k in (*keys.session_keys(s.id), keys.code(s.code))]
            )
            if left:
                raise BenchError(f"the sweep left {left} session keys in Redis")
            copy, copy_without_fk = await self._copy_all()
            if copy.items != total:
                raise BenchError(f"COPY wrote {copy.items} rows, expected {total}")
            self.series["sweep_rows_per_s"].add(sweep.per_second)
            self.series["copy_rows_per_s"].add(copy.per_second)
            self.series["copy_without_fk_rows_per_s"].add(copy_without_fk.per_second)
            log.info(
                "sweep rep %d: used_memory %+d B (own database %+d B, session keys %d B) for"
                " %d check-ins; sweep %.0f rows/s, COPY %.0f rows/s (without the foreign key"
                " %.0f rows/s)",
                rep + 1,
                used,
                own,
                key_bytes,
                total,
                sweep.per_second,
                copy.per_second,
                copy_without_fk.per_second,
            )
        await self._deliver_left_summaries(total)
        self.notes.append(
            (
                "Redis bytes/check-in by MEMORY USAGE of the session keys",
                f"{self.series['redis_key_bytes'].median:.1f}",
            )
        )
        self.notes.append(
            (
                "Redis bytes/check-in, the bench's database alone",
                f"{self.series['redis_db_bytes'].median:.1f}",
            )
        )
        if self.disturbed:
            self.notes.append(
                (
                    "memory repetitions disturbed by other Redis clients",
                    f"{self.disturbed} (their database figure was used)",
                )
            )

    # --- Redis memory of update claims ---------------------------------------------------

    async def measure_claims(self) -> None:
        """`redis_bytes_per_update_claim` (see bench/claims.py): one repetition of 100,000
        updates over a simulated day, and (full runs) for information one of the same within
        2 minutes."""
        day = await claim_bytes(self, CLAIM_STUDENTS, timedelta(hours=8), seed=1)
        self.series["redis_bytes_per_update_claim"].add(day)
        log.info("claims: %.2f B/update over a day", day)
        if self.sizes.claims_burst:
            burst = await claim_bytes(self, CLAIM_STUDENTS + BLOCK, timedelta(minutes=2), seed=2)
            self.notes.append(
                ("Redis bytes/update claim, all within 2 minutes (windows full)", f"{burst:.2f}")
            )
        self.notes.append(
            (
                "Redis bytes of the former key per update claim (MEMORY USAGE)",
                f"{await former_key_bytes(self)}",
            )
        )

    # --- a burst of 1,000 concurrent /checkin updates ------------------------------------

    async def measure_burst(self) -> None:
        """`burst_1000_record_s`: from handing over the burst to the last check-in recorded.

        A check-in counts as recorded when the reply of its EVALSHA (the check-in script
        answering "recorded", alone or after the visit in one step, or as one of a batch of
        arrivals) reaches the process: a perf_counter stamp taken by a thin wrapper around
        the client's `evalsha` and around `LuaScript.call_once` (the batches'), so no
        polling competes with the burst for the loop.
        """
        n = self.sizes.burst
        redis = self.services.redis
        warm = [WARMUP_STUDENTS + BLOCK + i for i in range(300)]
        await self._register(warm)
        warm_session = await self.new_session()
        expected = self._api.messages_sent + len(warm)
        await gather_all(
            self.app.process_update(checkin_update(self.app.bot, s, warm_session.code))
            for s in warm
        )
        await self._api.wait_for_messages(expected)
        original = redis.evalsha
        recorded: list[float] = []

        async def evalsha_spy(*args: Any, **kwargs: Any) -> Any:
            reply = await original(*args, **kwargs)
            if _records(reply):
                recorded.append(time.perf_counter())
            return reply

        original_batch = LuaScript.call_once

        async def batch_spy(script: LuaScript, args: Sequence[EncodableT]) -> Any:
            replies = await original_batch(script, args)
            if isinstance(replies, list):
                now = time.perf_counter()
                recorded.extend(now for reply in replies if _records(reply))
            return replies

        for rep in range(self.sizes.reps):
            students = [BURST_STUDENTS + rep * BLOCK + i for i in range(n)]
            await self._register(students)
            session = await self.new_session()
            updates = [checkin_update(self.app.bot, s, session.code) for s in students]
            recorded.clear()
            expected = self._api.messages_sent + n
            redis.evalsha = evalsha_spy  # type: ignore[method-assign]
            LuaScript.call_once = batch_spy  # type: ignore[method-assign,assignment]
            try:
                started = time.perf_counter()
                await gather_all(self.app.process_update(u) for u in updates)
                await self._api.wait_for_messages(expected)
                finished = time.perf_counter()
            finally:
                del redis.evalsha
                LuaScript.call_once = original_batch  # type: ignore[method-assign]
            await self._expect_recorded(session, n, "burst")
            if len(recorded) != n or self._api.messages_sent != expected:
                raise BenchError("the burst did not record and answer every check-in once")
            values = await redis.hvals(keys.session_checkins(session.id))
            stamps = [_stored_ms(v) for v in values]
            self.series["burst_1000_record_s"].add(max(recorded) - started)
            self.series["burst_first_to_last_s"].add(max(recorded) - min(recorded))
            self.series["burst_stored_ms_spread_s"].add((max(stamps) - min(stamps)) / 1000)
            self.series["burst_all_replied_s"].add(finished - started)
            log.info("burst rep %d: last recorded after %.3f s", rep + 1, max(recorded) - started)
        for label, name in (
            ("burst: first to last recorded (s)", "burst_first_to_last_s"),
            ("burst: spread of stored check-in times (s, ms clock)", "burst_stored_ms_spread_s"),
            ("burst: until every reply was sent (s)", "burst_all_replied_s"),
        ):
            self.notes.append((label, f"{self.series[name].median:.3f}"))

    # --- a burst of 1,000 /checkin replies through the flood limiter -----------------------

    @contextlib.asynccontextmanager
    async def _limited_app(self, api: InMemoryBotApi) -> AsyncIterator[AnyApplication]:
        """The real Application with the production flood limiter (fresh: no pace learnt
        from an earlier repetition), on the bench's services."""
        services = self.services

        async def factory() -> Services:
            return services

        app = build_application(self.settings, factory, request=api, schedule=False)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        try:
            yield app
        finally:
            app.bot_data.pop(SERVICES_KEY, None)
            await app.shutdown()

    async def _chat_burst(self, block: int, limit: FloodLimit | None) -> float:
        """Seconds from handing 1,000 /checkin updates of distinct students to the
        production Application (flood limiter on) until Telegram took the last reply;
        every reply taken exactly once."""
        n = self.sizes.burst
        api = InMemoryBotApi()
        students = [CHAT_BURST_STUDENTS + block * BLOCK + i for i in range(n)]
        # The first updates of an Application pay for what it builds once: not the burst.
        warm = [CHAT_BURST_STUDENTS + block * BLOCK + n + i for i in range(50)]
        await self._register(students + warm)
        async with self._limited_app(api) as app:
            warm_session = await self.new_session()
            await gather_all(
                app.process_update(checkin_update(app.bot, s, warm_session.code)) for s in warm
            )
            await api.wait_for_messages(len(warm))
            session = await self.new_session()
            updates = [checkin_update(app.bot, s, session.code) for s in students]
            expected = api.messages_sent + n
            api.track_chats()
            api.impose(limit)
            started = time.perf_counter()
            await gather_all(app.process_update(u) for u in updates)
            timeout = REPLY_TIMEOUT_SECONDS if limit is None else LIMITED_TIMEOUT_SECONDS
            await api.wait_for_messages(expected, within=timeout)
            last = api.last_message_at - started
            await asyncio.sleep(0.2)  # a duplicate would show up now
            assert api.per_chat is not None
            await self._expect_recorded(session, n, "chat burst")
            if sorted(api.per_chat[s] for s in students) != [1] * n:
                raise BenchError("the chat burst did not answer every student exactly once")
            if limit is not None and api.refused_429 == 0:
                raise BenchError("the imposed limit was never hit: not a limited burst")
            log.info(
                "chat burst (%s): last reply after %.3f s, %d answered 429",
                "limited" if limit else "no limit",
                last,
                api.refused_429,
            )
            return last

    async def measure_chat_burst(self) -> None:
        """`chat_burst_1000_last_reply_s`: replies are not broadcasts, so a burst of 1,000
        check-ins is answered as fast as the bot works; `chat_burst_1000_limited_last_reply_s`
        with Telegram's 30 a second imposed (429 and `retry_after` beyond it), and
        `chat_burst_floor_ratio`: the least that limit allows (1,000 / 30 s) over that."""
        block = 0
        for _ in range(self.sizes.reps):
            self.series["chat_burst_1000_last_reply_s"].add(await self._chat_burst(block, None))
            block += 2
        assert IMPOSED_LIMIT.per_second is not None
        floor = self.sizes.burst / IMPOSED_LIMIT.per_second
        for _ in range(self.sizes.limited_reps):
            limited = await self._chat_burst(block, IMPOSED_LIMIT)
            block += 2
            self.series["chat_burst_1000_limited_last_reply_s"].add(limited)
            self.series["chat_burst_floor_ratio"].add(floor / limited)
