"""Where the benchmark runs: the configured servers or embedded ones, always in its own space.

Why: the machine's Redis and PostgreSQL also serve tests and other people's work, so the bench
claims an empty Redis database number and creates its own PostgreSQL database, and removes only
what it created. Without configured URLs it starts embedded servers in a temporary directory,
as a fresh clone would have to.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

log = logging.getLogger(__name__)

REDIS_ENV = "ATTN_BENCH_REDIS_URL"
DATABASE_ENV = "ATTN_BENCH_DATABASE_URL"
CLAIM_KEY = "attn-bench:claim"
# 0 is everyone's default and 15 the test suite's (README); 13 and 14 are handy spares for
# people, so the bench starts in the middle.
CANDIDATE_DBS = [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 13, 14]
PRODUCT_KEY_PATTERN = "attn:*"


class BenchSetupError(RuntimeError):
    """The bench could not get a space of its own on the servers."""


@dataclass(frozen=True)
class Target:
    """The URLs the bench's services connect to, and facts about the servers behind them."""

    redis_url: str
    database_url: str
    servers: str  # "configured" or "embedded"
    redis_db: int
    database: str


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis URL pointing at database `db` (redis://…/N or unix://…?db=N)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"] + [("db", str(db))]
        return urlunsplit(parts._replace(query=urlencode(query)))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    return urlunsplit(parts._replace(path=f"/{db}", query=urlencode(query)))


def database_url_with_name(url: str, name: str) -> str:
    """The same PostgreSQL URL naming database `name` (keeps host, port and query options)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("dbname", "database")]
    return urlunsplit(parts._replace(path=f"/{name}", query=urlencode(query, safe="/")))


async def _claim_redis_db(url: str, wanted: int | None) -> int:
    """An empty database number, marked as the bench's so a concurrent bench picks another."""
    candidates = [wanted] if wanted is not None else CANDIDATE_DBS
    token = f"{os.getpid()}"
    for db in candidates:
        client = Redis.from_url(redis_url_with_db(url, db))
        try:
            if await client.set(CLAIM_KEY, token, nx=True, ex=24 * 3600):
                if await client.dbsize() == 1:
                    return db
                await client.delete(CLAIM_KEY)
        finally:
            await client.aclose()
    raise BenchSetupError(
        f"no empty Redis database among {candidates}; pass --redis-db N with an empty one"
    )


async def _release_redis_db(url: str) -> None:
    """Delete the keys the bench created (product keys and the claim), nothing else."""
    client = Redis.from_url(url)
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=PRODUCT_KEY_PATTERN, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
        await client.delete(CLAIM_KEY)
    finally:
        await client.aclose()


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except asyncpg.exceptions.PostgresSyntaxError:  # before PostgreSQL 13
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()


def _start_embedded() -> tuple[str, str, list[Callable[[], None]]]:
    """Start embedded Redis and PostgreSQL in a new temporary directory.

    Returns their URLs and the clean-up steps, in the order they must run.
    """
    from storage.embedded import start_embedded_postgres, start_embedded_redis

    root = Path(tempfile.mkdtemp(prefix="attn-bench-"))
    if os.geteuid() == 0:
        # As root the embedded PostgreSQL runs as another OS user, which must be able to
        # reach its data directory below this one (attn changes nothing outside it).
        root.chmod(0o711)
    log.info("starting embedded Redis and PostgreSQL in %s", root)
    stoppers: list[Callable[[], None]] = [lambda: shutil.rmtree(root, ignore_errors=True)]
    redis_server = start_embedded_redis(root / "redis-data")
    stoppers.append(redis_server.stop)
    try:
        pg_server = start_embedded_postgres(root / "pg-data", database="attn_bench_admin")
    except BaseException:
        redis_server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    stoppers.append(pg_server.stop)
    return redis_server.url, pg_server.url, stoppers


@asynccontextmanager
async def bench_target(
    redis_url: str | None, database_url: str | None, redis_db: int | None
) -> AsyncIterator[Target]:
    """Give the bench its own Redis database and PostgreSQL database; clean up afterwards.

    URLs come from the arguments, else `ATTN_BENCH_REDIS_URL` / `ATTN_BENCH_DATABASE_URL`,
    else embedded servers in a temporary directory (both are started when either is missing,
    so a half-configured machine still measures two real servers side by side).
    """
    redis_url = redis_url or os.environ.get(REDIS_ENV) or None
    database_url = database_url or os.environ.get(DATABASE_ENV) or None
    async with AsyncExitStack() as stack:
        servers = "configured"
        if redis_url is None or database_url is None:
            servers = "embedded"
            embedded_redis, embedded_pg, stoppers = _start_embedded()
            for stop in stoppers:  # the exit stack runs them last first: servers, then files
                stack.callback(stop)
            redis_url = redis_url or embedded_redis
            database_url = database_url or embedded_pg
        db = await _claim_redis_db(redis_url, redis_db)
        bench_redis_url = redis_url_with_db(redis_url, db)
        stack.push_async_callback(_release_redis_db, bench_redis_url)
        name = f"attn_bench_{os.getpid()}"
        await _drop_database(database_url, name)  # a leftover of a killed run with our pid
        await _create_database(database_url, name)
        stack.push_async_callback(_drop_database, database_url, name)
        yield Target(
            redis_url=bench_redis_url,
            database_url=database_url_with_name(database_url, name),
            servers=servers,
            redis_db=db,
            database=name,
        )
