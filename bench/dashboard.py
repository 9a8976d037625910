"""`dashboard_json_ms`: how long the teacher dashboard's table of a 300 × 40 course takes over
HTTP (issue 16: "300 students × 40 sessions JSON under 100 ms").

The whole path in-process: the bot's real web server (uvicorn in the bench's event loop, the
web features on) and an httpx client over loopback TCP; each request carries signed initData
(checked with the bot token), asks `CourseAccess` (the teacher's role), reads the report
(standings, session rates, places, grading policy) and every saved record of the course, and
answers 300 rows of 40 letters with rates and grades. The median of the repetitions is the
figure; `dashboard_store_ms`, the same reads through `DashboardService.table` without HTTP,
initData or JSON, is the baseline measured in the same run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from bench.scenarios import Bench, BenchError, teacher_ids
from bot.web.dashboard import API_PREFIX
from bot.web.init_data import signed_init_data
from bot.web.server import WebServer
from services.dashboard import DashboardService
from tests.support.dashboard import seed_course

STUDENTS = 300
SESSIONS = 40
#: Far from the ids the other measurements use (the API bench starts at 900_000_000).
FIRST_STUDENT = 910_000_000


async def _seed(bench: Bench, teacher: int) -> int:
    """A course of 300 enrolled students with 40 saved sessions (every status); its id."""
    services = bench.services
    seeded = await seed_course(
        services,
        teacher,
        "Dashboard bench",
        students=STUDENTS,
        sessions=SESSIONS,
        first_student=FIRST_STUDENT,
        start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    if services.pool is not None:
        # The planner's statistics as autovacuum keeps them in a running installation (fresh
        # tables without them get nested-loop plans a course of this size never sees).
        await services.pool.execute("ANALYZE")
    return seeded.course.id


def _authorization(bench: Bench, teacher: int) -> str:
    fields = {
        "query_id": "AAHbench",
        "user": f'{{"id":{teacher},"first_name":"Bench","language_code":"en"}}',
        "auth_date": str(int(bench.services.sessions.now().timestamp())),
    }
    return "tma " + signed_init_data(fields, bench.settings.bot_token.get_secret_value())


async def measure_dashboard(bench: Bench) -> None:
    """Both sides each repetition, in alternating order; every answer must hold the table."""
    teacher = teacher_ids()[-1]
    course_id = await _seed(bench, teacher)
    settings = bench.settings.model_copy(update={"public_url": "https://attn.example.org"})
    server = WebServer(bench.app, settings, host="127.0.0.1", port=0)
    await server.start()
    try:
        await _measure(bench, server.base_url, course_id, teacher)
    finally:
        server.stop_accepting()
        await server.idle()
        await server.close()


async def _measure(bench: Bench, base: str, course_id: int, teacher: int) -> None:
    services = bench.services
    dashboard = DashboardService(
        access=services.access, reports=services.reports, reads=services.records.api_reads
    )
    path = f"{API_PREFIX}/courses/{course_id}/table"
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:

        async def over_http() -> None:
            headers = {"Authorization": _authorization(bench, teacher)}
            response = await client.get(path, headers=headers)
            if response.status_code != 200:
                raise BenchError(f"the dashboard answered {response.status_code}")
            body = response.json()
            cells = sum(len(s["cells"]) for s in body["students"])
            if len(body["students"]) != STUDENTS or cells != STUDENTS * SESSIONS:
                raise BenchError(f"the table had {len(body['students'])} rows, {cells} cells")

        async def from_store() -> None:
            table = await dashboard.table(teacher, course_id)
            if len(table.rows) != STUDENTS:
                raise BenchError(f"the store's table had {len(table.rows)} rows")

        await over_http()  # warm-up: plans, pools, imports
        await from_store()
        for rep in range(max(bench.sizes.reps, 5)):
            order = (over_http, from_store) if rep % 2 == 0 else (from_store, over_http)
            for side in order:
                started = time.perf_counter()
                await side()
                ms = (time.perf_counter() - started) * 1000
                key = "dashboard_json_ms" if side is over_http else "dashboard_store_ms"
                bench.series[key].add(ms)
