"""`python -m bench [--quick] [--out PATH] ...`: run the measurements, print, write JSON.

Why a CLI rather than pytest: the numbers are read by people and compared across runs, not
asserted; a benchmark that fails a build on a noisy machine helps nobody.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

# python-telegram-bot warns about RetryAfter's type unless opted in (as the tests do).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bench import report
from bench.api import measure_api
from bench.dashboard import measure_dashboard
from bench.scenarios import FULL, QUICK, Bench, Sizes, bench_settings
from bench.servers import Target, bench_target
from bench.web import measure_web
from bot.bootstrap import build_services

log = logging.getLogger("bench")

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
PHASES = (
    "checkins",
    "updates",
    "sweep",
    "burst",
    "claims",
    "api",
    "dashboard",
    "chat",
    "web",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark ATTN against real Redis and PostgreSQL (see bench/README.md).",
    )
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON result"
    )
    parser.add_argument(
        "--redis-url", help="Redis server (default $ATTN_BENCH_REDIS_URL, else embedded)"
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server (default $ATTN_BENCH_DATABASE_URL, else embedded); the bench "
        "creates and drops its own database there",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        help="an empty Redis database number to use (default: the first empty of 12..1, 13, 14)",
    )
    parser.add_argument(
        "--reps", type=int, default=None, help="repetitions of each measurement (at least 3)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PHASES,
        help="run only these measurements (for profiling); the JSON then holds only their keys",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each repetition")
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 3:
        parser.error("--reps must be at least 3 (the results are medians of repetitions)")
    return args


async def _machine(bench: Bench, target: Target, quick: bool) -> dict[str, Any]:
    redis = bench.services.redis
    server = await redis.info("server")
    try:
        listpack = await redis.config_get("hash-max-listpack-entries")
        entries = next(iter(listpack.values()), None) if listpack else None
    except Exception:  # CONFIG may be renamed or disabled on a managed server
        entries = None
    async with bench.services.pool.acquire() as conn:
        pg_version = await conn.fetchval("SHOW server_version")
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "redis": server.get("redis_version"),
        "postgresql": pg_version,
        "quick": quick,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "servers": target.servers,
        "platform": platform.platform(),
        "redis_hash_max_listpack_entries": entries if entries is None else int(entries),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "concurrency": bench.sizes.concurrency,
        "repetitions": bench.sizes.reps,
    }


async def run(args: argparse.Namespace) -> tuple[list[report.Row], Bench, dict[str, Any]]:
    sizes: Sizes = QUICK if args.quick else FULL
    if args.reps is not None:
        sizes = Sizes(**{**sizes.__dict__, "reps": args.reps})
    phases = args.only or PHASES
    settings = bench_settings()
    async with bench_target(args.redis_url, args.database_url, args.redis_db) as target:
        print(
            f"bench: {target.servers} servers, Redis db {target.redis_db}, "
            f"PostgreSQL database {target.database}",
            file=sys.stderr,
        )
        services = await build_services(settings, target.redis_url, target.database_url)
        try:
            bench = Bench(services, settings, sizes)
            async with bench.running():
                machine = await _machine(bench, target, args.quick)
                steps = {
                    "checkins": bench.measure_checkins,
                    "updates": bench.measure_updates,
                    "sweep": bench.measure_memory_and_sweep,
                    "burst": bench.measure_burst,
                    "claims": bench.measure_claims,
                    "api": partial(measure_api, bench),
                    "dashboard": partial(measure_dashboard, bench),
                    "chat": bench.measure_chat_burst,
                    "web": partial(measure_web, bench),
                }
                for phase in PHASES:
                    if phase in phases:
                        started = time.perf_counter()
                        await steps[phase]()
                        print(
                            f"bench: {phase} done in {time.perf_counter() - started:.1f} s",
                            file=sys.stderr,
                        )
        finally:
            await services.close()
    return report.rows_from(bench.series), bench, machine


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.verbose:
        log.setLevel(logging.INFO)
        logging.getLogger("bench.scenarios").setLevel(logging.INFO)
        logging.getLogger("bench.servers").setLevel(logging.INFO)
    started = time.perf_counter()
    rows, bench, machine = asyncio.run(run(args))
    machine["seconds"] = round(time.perf_counter() - started, 1)
    machine["load_average_at_end"] = round(os.getloadavg()[0], 2)
    result = report.to_json(rows, machine)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(report.table(rows, bench.notes))
    print(
        f"\n{machine['cores']} cores, Python {machine['python']}, Redis {machine['redis']}, "
        f"PostgreSQL {machine['postgresql']} ({machine['servers']}), "
        f"{'quick' if args.quick else 'full'} run in {machine['seconds']} s -> {args.out}"
    )
    busy = machine["load_average_at_start"]  # at the end it includes the bench itself
    if machine["cores"] and busy > 0.5 * machine["cores"]:
        print(
            f"note: the machine was busy before the bench started (1-minute load average "
            f"{busy}); absolute rates and latencies suffer first, the paired ratios less."
        )
    return 0
