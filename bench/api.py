"""`api_records_per_s`: records a client reads per second paging through a 300 × 40 course with
the REST API (issue 16), against the same pages read straight from the store.

The product side is the whole HTTP path in-process: the bot's real web server (uvicorn in the
bench's event loop, `bot.web.server.WebServer` with the web features on) and an httpx client
over loopback TCP (token looked up in PostgreSQL and counted in Redis on every request, the
keyset page, the pydantic models, JSON, the ETag, the middleware), 500 records a page, page
after page as a client follows `next_cursor`. The baseline reads the same pages with
`ApiReadRecords.record_page`: what the HTTP layer, authentication and serialisation cost is
their ratio.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from bench.scenarios import Bench, BenchError, teacher_ids
from bot.web.server import WebServer
from services.ports.api import ApiScope
from tests.support.dashboard import seed_course

STUDENTS = 300
SESSIONS = 40
PAGE = 500
#: Far from the ids the other measurements use.
FIRST_STUDENT = 900_000_000


async def _seed(bench: Bench) -> tuple[int, str]:
    """A course of 300 students with 40 saved sessions (a mix of statuses); its id and a
    read token."""
    services = bench.services
    teacher = teacher_ids()[-1]
    seeded = await seed_course(
        services,
        teacher,
        "API bench",
        students=STUDENTS,
        sessions=SESSIONS,
        first_student=FIRST_STUDENT,
        start=datetime(2026, 2, 2, 9, 0, tzinfo=UTC),
    )
    made = await services.api_tokens.create(teacher, seeded.course.id, ApiScope.READ)
    return seeded.course.id, made.secret


async def _read_over_http(client: httpx.AsyncClient, course_id: int, secret: str) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/courses/{course_id}/records"
    params: dict[str, str | int] = {"limit": PAGE}
    total = 0
    while True:
        response = await client.get(path, params=params, headers=headers)
        if response.status_code != 200:
            raise BenchError(f"the API answered {response.status_code}: {response.text[:200]}")
        body = response.json()
        total += len(body["items"])
        if body["next_cursor"] is None:
            return total
        params = {"limit": PAGE, "cursor": body["next_cursor"]}


async def _read_from_store(bench: Bench, course_id: int) -> int:
    reads = bench.services.records.api_reads
    after = None
    total = 0
    while True:
        rows = await reads.record_page(course_id, session_id=None, after=after, limit=PAGE + 1)
        total += min(len(rows), PAGE)
        if len(rows) <= PAGE:
            return total
        last = rows[PAGE - 1]
        after = (last.session_started_at, last.session_id, last.student_id)


async def measure_api(bench: Bench) -> None:
    """Both sides each repetition, in alternating order; every read must see all records."""
    course_id, secret = await _seed(bench)
    settings = bench.settings.model_copy(update={"public_url": "https://attn.example.org"})
    server = WebServer(bench.app, settings, host="127.0.0.1", port=0)
    await server.start()
    expected = STUDENTS * SESSIONS
    try:
        await _measure(bench, server.base_url, course_id, secret, expected)
    finally:
        server.stop_accepting()
        await server.idle()
        await server.close()


async def _measure(bench: Bench, base: str, course_id: int, secret: str, expected: int) -> None:
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        await _read_over_http(client, course_id, secret)  # warm-up: plans, pools, imports
        for rep in range(bench.sizes.reps):
            order = ("http", "store") if rep % 2 == 0 else ("store", "http")
            for side in order:
                started = time.perf_counter()
                if side == "http":
                    read = await _read_over_http(client, course_id, secret)
                else:
                    read = await _read_from_store(bench, course_id)
                seconds = time.perf_counter() - started
                if read != expected:
                    raise BenchError(f"{side} read {read} records of {expected}")
                key = "api_records_per_s" if side == "http" else "api_store_records_per_s"
                bench.series[key].add(read / seconds)
