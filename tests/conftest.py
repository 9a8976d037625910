"""Shared fixtures: the stores (in memory, or real Redis and PostgreSQL), settings, clock.

`ATTN_TEST_STORES` picks what the `services`, `clean_redis` and `stored_tables` fixtures stand
on: `memory` (the default: the real Redis code on fakeredis, the in-memory record stores of
tests/fakes/memory, no server at all) or `servers` (real Redis and PostgreSQL). Tests that need
a server whatever the switch (tests/integration, tests/e2e, tests/faults, the contract tests'
PostgreSQL half) ask for `redis_url` / `database_url` themselves. With `ATTN_TEST_REDIS_URL` /
`ATTN_TEST_DATABASE_URL` set, those are the servers; otherwise embedded ones start once per
run, as on a fresh machine.

Under pytest-xdist (`-n 2`) every worker has servers of its own: embedded ones of its own, or
on the configured servers the next Redis database numbers and a PostgreSQL database of its own
(`<name>_gw1`, created when missing), so no two tests ever share stores. Each worker takes
the next test from one queue (`--dist load` becomes `loadgroup`), and the queue starts with
the slowest files (tests/support/scheduling.py), so the suite ends on both workers together.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from redis.asyncio import Redis

# python-telegram-bot warns about RetryAfter's type unless opted in; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.bootstrap import build_services, wire_services
from bot.container import Services
from bot.logging_setup import RedactSecrets
from bot.settings import Settings
from services.clock import ManualClock
from storage.redis import redis_live_stores
from tests.fakes.memory import MemoryDatabase, memory_record_stores
from tests.support.emptying import delete_all_rows
from tests.support.scheduling import file_seconds
from tests.support.stored_tables import MemoryTables, PostgresTables, StoredTables

TEACHER_ID = 1001
ADMIN_ID = 9001
TOKEN = "123456:TEST-token-for-tests"

STORES_MODES = ("memory", "servers")
STORES = os.environ.get("ATTN_TEST_STORES", "memory").strip() or "memory"
if STORES not in STORES_MODES:
    raise RuntimeError(f"ATTN_TEST_STORES={STORES!r}: expected one of {', '.join(STORES_MODES)}")

# Only these directories follow the switch; every other test that asks for `services` stands on
# real servers whatever it says (integration, e2e and faults tests are about the servers).
_SWITCHED_DIRS = ("unit", "bot")


def stores_for(request: pytest.FixtureRequest) -> str:
    """`memory` or `servers`: what this test's `services` and `clean_redis` stand on."""
    try:
        parts = Path(str(request.node.path)).resolve().relative_to(_TESTS_ROOT).parts
    except ValueError:
        return "servers"
    return STORES if parts and parts[0] in _SWITCHED_DIRS else "servers"


TABLES = [
    "attendance",
    "summary_outbox",
    "nudge_outbox",
    "attendance_audit",
    "course_audit",
    "course_staff",
    "course_staff_invites",
    "sessions",
    "enrolments",
    "courses",
    "users",
    "teachers",
    "teacher_invites",
    "forgotten_users",
    "unreachable_users",
    "user_preferences",
    "excuse_requests",
    "grading_policies",
    "absence_alerts",
    "teacher_digests",
    "roster_places",
    "roster_claims",
    "timetables",
    "timetable_runs",
    "api_tokens",
    "course_webhooks",
    "webhook_outbox",
    "webhook_notices",
]


class _CaptureEverything(logging.Handler):
    """Keeps every log line of the whole run, at DEBUG, to look for secrets at the end."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.lines.append(repr(record.__dict__))


_CAPTURE = _CaptureEverything()
_CAPTURE.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
# The same redaction `attn run` installs on its log handler (bot/logging_setup.py):
# python-telegram-bot itself logs the Bot API URL, token included, at DEBUG.
_CAPTURE.addFilter(RedactSecrets([TOKEN]))


def pytest_configure(config: pytest.Config) -> None:
    _private_temp_root(config)
    _group_process_tests(config)
    logging.getLogger().addHandler(_CAPTURE)
    logging.getLogger().setLevel(logging.DEBUG)
    for noisy in ("matplotlib", "PIL", "asyncio", "hpack", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def _group_process_tests(config: pytest.Config) -> None:
    """Under xdist, `--dist load` (what `-n` means alone) becomes `loadgroup`: every test is
    then a unit of its own, handed out in collection order from one queue as a worker frees
    up (`load` hands each worker a quarter of the suite at once), so the slowest files put
    first (`pytest_collection_modifyitems`) spread over both workers; an `xdist_group` mark
    still keeps its tests on one worker. A worker parses the command line again and would
    not know: the controller tells it (`pytest_configure_node`)."""
    if config.getoption("dist", None) == "load":
        config.option.dist = "loadgroup"
    if getattr(config, "workerinput", {}).get("attn_loadgroup"):
        config.option.loadgroup = True  # what xdist's worker reads to name the groups


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown with -p no:xdist
def pytest_configure_node(node: Any) -> None:
    node.workerinput["attn_loadgroup"] = node.config.getoption("dist") == "loadgroup"


# The marker of every test, by the directory it lives in (registered in pyproject.toml).
_MARKER_BY_DIR = {
    "unit": "unit",
    "bot": "bot",
    "fakes": "contract",
    "contract": "contract",
    "integration": "integration",
    "e2e": "e2e",
    "faults": "faults",
    "web": "web",
}
_TESTS_ROOT = Path(__file__).resolve().parent


# Fixtures that reach a real server whatever ATTN_TEST_STORES says (a test asking for one is
# marked `servers`; the contract tests' PostgreSQL half is marked by its parameter).
_SERVER_FIXTURES = {"redis_url", "database_url", "clean_database"}
_SERVER_DIRS = {"integration", "e2e", "faults"}


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups in the test ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its directory, and `servers` when it needs a real server, so
    `-m "(unit or bot or contract) and not servers"` is the fast loop (no server at all).
    On an xdist worker, the slowest files first (what the workers' queue is made from)."""
    named = getattr(config.option, "loadgroup", False)  # an xdist worker under loadgroup
    expected: dict[Path, float] = {}
    for item in items:
        try:
            relative = Path(str(item.path)).resolve().relative_to(_TESTS_ROOT)
        except ValueError:
            continue
        parts = relative.parts
        marker = _MARKER_BY_DIR.get(parts[0]) if len(parts) > 1 else None
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))
        if marker in _SERVER_DIRS or _SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
        if named and (group := item.get_closest_marker("xdist_group")) is not None:
            _name_group_in_id(item, group.args[0] if group.args else group.kwargs["name"])
        expected.setdefault(item.path, file_seconds(relative))
    if hasattr(config, "workerinput"):
        # Stable: a file's tests stay together and in order (module fixtures start once).
        items.sort(key=lambda item: -expected.get(item.path, 0))


def _name_group_in_id(item: pytest.Item, group: str) -> None:
    """What xdist's loadgroup does to a grouped test's id (`<id>@<group>`, how its scheduler
    finds the group). xdist 3.8 sets `item._nodeid`, which pytest 9 no longer reads (the id
    lives in `_id`), so there the group would silently be ignored; with an older pytest,
    xdist names it itself."""
    if not hasattr(item, "_id"):
        return
    from _pytest.nodeid import coerce_node_id

    item._id = coerce_node_id(f"{item.nodeid}@{group}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Park everything imported so far out of the garbage collector's way: the modules and
    classes live for the whole run, and every full collection would walk them again."""
    gc.collect()
    gc.freeze()


# Under xdist each worker captures its own tests' log lines and hands its count and leaks to
# the controller (`workeroutput`), which fails the run as a single process would.
_WORKER_VERDICTS: list[tuple[int, list[str]]] = []


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown with -p no:xdist
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", {})
    if "attn_log_lines" in output:
        _WORKER_VERDICTS.append((output["attn_log_lines"], output["attn_leaked"]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The bot token must never reach a log line at any level, in any test."""
    leaked = [line[:500] for line in _CAPTURE.lines if TOKEN in line or TOKEN.split(":")[1] in line]
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller judges and reports
        workeroutput["attn_log_lines"] = len(_CAPTURE.lines)
        workeroutput["attn_leaked"] = leaked
        return
    lines = len(_CAPTURE.lines) + sum(count for count, _ in _WORKER_VERDICTS)
    leaked += [line for _, found in _WORKER_VERDICTS for line in found]
    if leaked:
        print(f"\nSECRET LEAK: the bot token appears in {len(leaked)} log lines, e.g.:")
        print(leaked[0])
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nlog check: {lines} log lines captured at DEBUG, no token")


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": TOKEN,
        "teacher_ids": [TEACHER_ID],
        "admin_ids": [ADMIN_ID],
        "sweep_seconds": 3600,
        "sweep_lease_seconds": 30,
        "redis_max_connections": 64,
        # Tests drive single users much faster than people type; the limiter has its own test.
        "user_rate_per_minute": 100_000,
        "global_rate_per_second": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _private_temp_root(config: pytest.Config) -> None:
    """As root: this run's temporary folders under a root of its own, searchable by others.

    Why: as root the embedded PostgreSQL runs as another OS user, which must reach its data
    directory through every parent; pytest's shared /tmp/pytest-of-root is reset to 0700 by
    every pytest run that starts, so concurrent runs would shut each other's servers out.
    """
    if os.geteuid() != 0 or os.environ.get("PYTEST_DEBUG_TEMPROOT") or config.option.basetemp:
        return
    root = Path(tempfile.mkdtemp(prefix="attn-pytest-"))
    root.chmod(0o711)
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(root)

    def remove() -> None:
        os.environ.pop("PYTEST_DEBUG_TEMPROOT", None)
        shutil.rmtree(root, ignore_errors=True)

    config.add_cleanup(remove)


def searchable(directory: Path) -> Path:
    """`directory`, made searchable (not listable) by other users when we are root.

    Why: as root the embedded PostgreSQL runs as another OS user, which must reach its data
    directory, and `attn` changes no permission outside ATTN_DATA_DIR: an operator puts the
    data directory where that user can reach it. pytest makes its temporary folders 0700, so
    the tests do what that operator would do.
    """
    if os.geteuid() == 0:
        directory.chmod(directory.stat().st_mode | 0o001)
    return directory


@pytest.fixture(scope="session", autouse=True)
def _temp_root_searchable(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every folder from this run's private root down to its base (an xdist worker's base is
    one level deeper: <root>/pytest-of-root/pytest-N/popen-gwK)."""
    base = tmp_path_factory.getbasetemp()
    root = os.environ.get("PYTEST_DEBUG_TEMPROOT")
    if root is None:  # --basetemp given
        searchable(base.parent)
        searchable(base)
        return
    for directory in (base, *base.parents):
        if not directory.is_relative_to(root) or directory == Path(root):
            break
        searchable(directory)


@pytest.fixture(autouse=True)
def _tmp_path_searchable(request: pytest.FixtureRequest) -> None:
    if os.geteuid() == 0 and "tmp_path" in request.fixturenames:
        searchable(request.getfixturevalue("tmp_path"))


def xdist_worker_index() -> int:
    """0 in a single-process run and on xdist's first worker (gw0), K on worker gwK."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def worker_redis_url(configured: str) -> str:
    """This worker's database on the configured Redis: the configured number plus the
    worker's index (db 8 with -n 2: 8 and 9)."""
    index = xdist_worker_index()
    if not index:
        return configured
    parts = urlsplit(configured)
    db = int(parts.path.strip("/") or 0) + index
    if db > 15:
        raise RuntimeError(
            f"ATTN_TEST_REDIS_URL={configured}: worker gw{index} would need Redis db {db};"
            " give a lower database number or fewer workers"
        )
    return urlunsplit(parts._replace(path=f"/{db}"))


def worker_database_url(configured: str) -> str:
    """This worker's database on the configured PostgreSQL: `<name>_gw<K>` (created when
    missing) for worker gwK>0, the configured one itself otherwise."""
    index = xdist_worker_index()
    if not index:
        return configured
    parts = urlsplit(configured)
    name = f"{parts.path.strip('/') or 'postgres'}_gw{index}"

    async def create() -> None:
        conn = await asyncpg.connect(configured)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    # Its own thread and loop: the first test to ask may already be inside the event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, create()).result()
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("ATTN_TEST_REDIS_URL")
    if configured:
        yield worker_redis_url(configured)
        return
    from storage.embedded import start_embedded_redis

    server = start_embedded_redis(Path(tmp_path_factory.mktemp("embedded-redis")))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("ATTN_TEST_DATABASE_URL")
    if configured:
        yield worker_database_url(configured)
        return
    from storage.embedded import start_embedded_postgres

    server = start_embedded_postgres(searchable(tmp_path_factory.mktemp("embedded-pg")))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def fake_redis_server() -> FakeServer:
    """The fakeredis server behind `clean_redis` in memory mode: each test gets its own."""
    return FakeServer()


@pytest.fixture
async def clean_redis(
    request: pytest.FixtureRequest, fake_redis_server: FakeServer
) -> AsyncIterator[Redis]:
    """A client on an emptied database: fakeredis in memory mode, else the Redis server."""
    if stores_for(request) == "memory":
        client: Redis = FakeAsyncRedis(server=fake_redis_server)
    else:
        client = Redis.from_url(request.getfixturevalue("redis_url"))
    await client.flushdb()
    yield client
    await client.aclose()


async def empty_database(database_url: str) -> str:
    """Apply the schema and empty every table; returns the URL."""
    from storage.postgres.migrate import apply_migrations

    conn = await asyncpg.connect(database_url)
    try:
        await apply_migrations(conn)
        await delete_all_rows(conn, TABLES)
    finally:
        await conn.close()
    return database_url


@pytest.fixture
async def clean_database(database_url: str) -> AsyncIterator[str]:
    """The database with the schema applied and every table emptied."""
    yield await empty_database(database_url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def memory_database() -> MemoryDatabase:
    """The in-memory tables behind `services` in memory mode (unused on servers)."""
    return MemoryDatabase()


@pytest.fixture
def stored_tables(request: pytest.FixtureRequest, memory_database: MemoryDatabase) -> StoredTables:
    """What `services` stored, table by table, read the same way on either backend."""
    if stores_for(request) == "memory":
        return MemoryTables(memory_database)
    # Emptied by `services` (async fixtures cannot be asked for from here: the loop runs).
    return PostgresTables(request.getfixturevalue("database_url"))


async def services_on_the_same_stores(
    request: pytest.FixtureRequest, clock: ManualClock
) -> Services:
    """Another process's services (its own clients) on the stores `services` stands on.

    Close it when done. Needs `services` (or `clean_redis` and `memory_database`) in the test.
    """
    if stores_for(request) == "memory":
        client = FakeAsyncRedis(server=request.getfixturevalue("fake_redis_server"))
        other = wire_services(
            make_settings(),
            await redis_live_stores(client),
            memory_record_stores(request.getfixturevalue("memory_database")),
            clock,
        )
        other.redis = client
        return other
    redis_url = request.getfixturevalue("redis_url")
    database_url = request.getfixturevalue("database_url")  # emptied by `services` already
    return await build_services(make_settings(), redis_url, database_url, clock=clock)


@pytest.fixture
async def services(
    request: pytest.FixtureRequest,
    clean_redis: Redis,
    memory_database: MemoryDatabase,
    clock: ManualClock,
) -> AsyncIterator[Services]:
    """The real services with a manual clock, on the stores `ATTN_TEST_STORES` names.

    memory: the Redis live stores on `clean_redis` (fakeredis) and the in-memory records;
    `Services.redis` and `pool` are None. servers: `build_services` on real Redis and
    PostgreSQL, as `attn run` builds them.
    """
    if stores_for(request) == "memory":
        live = await redis_live_stores(clean_redis)
        built = wire_services(make_settings(), live, memory_record_stores(memory_database), clock)
    else:
        redis_url = request.getfixturevalue("redis_url")
        database_url = await empty_database(request.getfixturevalue("database_url"))
        built = await build_services(make_settings(), redis_url, database_url, clock=clock)
    yield built
    await built.close()


@pytest.fixture(autouse=True)
def _catalog_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """In tests/bot, every text the bot sends must come from the catalog (bot/text): a reply,
    caption, button, alert or command description written inline fails the test."""
    from tests.support.bot_harness import RecordingRequest

    if "bot" not in Path(str(request.node.path)).relative_to(Path(__file__).parent).parts[:1]:
        yield
        return
    RecordingRequest.catalog_violations = found = []
    try:
        yield
    finally:
        RecordingRequest.catalog_violations = None
    if found:
        pytest.fail("text not from the catalog:\n" + "\n".join(dict.fromkeys(found)))
