"""The Mini App's check-in over HTTP (issue 14): a burst of 1,000 students checking in at
once through `POST /api/miniapp/checkin`, and the HTTP check-in rate against the service's.

The server is the bot's real web server (`bot.web.server.WebServer`: uvicorn, the FastAPI app
with its middleware, the Mini App router) in the bench's event loop, on the bench's services
and Application, listening on loopback TCP. The client is the hall's phones, in a process of
their own (`HallProcess`, bench/hall_client.py: a server's rate is measured from outside
it), speaking HTTP/1.1 over at most `CONNECTIONS` (100) keep-alive connections: a hall's
phones reach the server through a proxy that keeps a bounded pool of upstream connections,
not 1,000 at once. Every request carries its own student's `Authorization: tma <initData>`,
signed with the bot token as Telegram signs it, so each one pays for validating it.

`web_burst_1000_confirmed_s`: all 1,000 requests handed to the client at once; seconds until
the last 200 with outcome `recorded` came back (timed by the client; every answer checked
there, the stored check-ins here). Beside it, in the same repetition and in
alternating order, the chat path's burst as `chat_burst_1000_last_reply_s` measures it
(`Bench._chat_burst`: the production Application, flood limiter on): 1,000 `/checkin`
updates handed over at once, seconds until the last reply was sent (printed beside it).

`web_checkin_per_s` / `web_service_checkin_per_s`: distinct students checking in through HTTP
(`CONNECTIONS` in flight) against `CheckInService.check_in` (the bench's 100 in flight) in
the same repetition; `web_checkin_ratio` is their ratio.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from bench.measure import Run, run_concurrent
from bench.scenarios import BLOCK, Bench, BenchError
from bot.web.server import WebServer
from services.models import CheckInOutcome, Session

#: Connections the client keeps open to the server (requests beyond wait for one).
CONNECTIONS = 100
WEB_STUDENTS = 7_700_000_000
WEB_RATE_STUDENTS = 7_800_000_000
#: Blocks of the chat burst's students (`Bench._chat_burst`) far above the chat phase's.
CHAT_BLOCKS = 50
WARMUP = 300


class HallProcess:
    """The hall's phones: `python -m bench.hall_client` in a process of its own, started
    once per measurement (see bench/hall_client.py); `run` hands it one job and waits."""

    def __init__(self, host: str, port: int, connections: int) -> None:
        self._argv = (sys.executable, "-m", "bench.hall_client", host, str(port), str(connections))
        self._child: asyncio.subprocess.Process | None = None

    async def open(self) -> None:
        self._child = await asyncio.create_subprocess_exec(
            *self._argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )

    async def run(self, op: str, students: Sequence[int], code: str, now: datetime) -> float:
        """Seconds the child took for the job (`burst`: until the last confirmation;
        `rate`: all of them); every answer was a confirmation (the child checked)."""
        child = self._child
        assert child is not None and child.stdin is not None and child.stdout is not None
        first = students[0]
        if list(students) != list(range(first, first + len(students))):
            raise BenchError("the hall client takes a run of consecutive student ids")
        job = {
            "op": op,
            "first": first,
            "count": len(students),
            "code": code,
            "auth_date": int(now.timestamp()),
        }
        child.stdin.write((json.dumps(job) + "\n").encode())
        await child.stdin.drain()
        line = await child.stdout.readline()
        if not line:
            raise BenchError(f"the hall client died (exit {await child.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise BenchError(f"the hall client: {answer['error']}")
        return float(answer["seconds"])

    async def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


async def _web_burst(bench: Bench, client: HallProcess, block: int) -> float:
    n = bench.sizes.burst
    students = [WEB_STUDENTS + block * BLOCK + i for i in range(n)]
    await bench._register(students)
    session = await bench.new_session()
    last = await client.run("burst", students, session.code, bench.services.sessions.now())
    await bench._expect_recorded(session, n, "web burst")
    return last


async def _chat_burst(bench: Bench, rep: int) -> float:
    """The chat path's burst in the same repetition, as `chat_burst_1000_last_reply_s`
    measures it (the production Application, flood limiter on, no imposed limit): seconds
    until the last reply; every student answered once. Its own students."""
    return await bench._chat_burst(CHAT_BLOCKS + 2 * rep, None)


async def _web_rate(
    bench: Bench, client: HallProcess, session: Session, students: Sequence[int]
) -> Run:
    now = bench.services.sessions.now()
    seconds = await client.run("rate", students, session.code, now)
    await bench._expect_recorded(session, len(students), "web check-ins")
    return Run(items=len(students), seconds=seconds)


async def _service_rate(bench: Bench, session: Session, students: Sequence[int]) -> Run:
    check_in = bench.services.checkins.check_in
    code = session.code

    async def one(i: int) -> None:
        result = await check_in(students[i], code)
        if result.outcome is not CheckInOutcome.RECORDED:
            raise BenchError(f"service check-in answered {result.outcome}")

    run = await run_concurrent(len(students), bench.sizes.concurrency, one)
    await bench._expect_recorded(session, len(students), "service check-ins")
    return run


async def measure_web(bench: Bench) -> None:
    """Both measurements on one running web server; every confirmation verified."""
    settings = bench.settings.model_copy(update={"public_url": "https://attn.example.org"})
    server = WebServer(bench.app, settings, host="127.0.0.1", port=0)
    await server.start()
    client = HallProcess("127.0.0.1", server.port, CONNECTIONS)
    try:
        await client.open()
        await _measure(bench, client)
    finally:
        await client.close()
        server.stop_accepting()
        await server.idle()
        await server.close()


async def _measure(bench: Bench, client: HallProcess) -> None:
    warm = [WEB_STUDENTS - BLOCK + i for i in range(WARMUP)]
    await bench._register(warm)
    warm_session = await bench.new_session()
    await _web_rate(bench, client, warm_session, warm)  # connections, imports, plans
    n = bench.sizes.updates
    for rep in range(bench.sizes.reps):
        block = rep * 2
        if rep % 2 == 0:
            web = await _web_burst(bench, client, block)
            chat = await _chat_burst(bench, rep)
        else:
            chat = await _chat_burst(bench, rep)
            web = await _web_burst(bench, client, block)
        bench.series["web_burst_1000_confirmed_s"].add(web)
        bench.series["web_chat_burst_last_reply_s"].add(chat)

        # Distinct students and sessions for each side: both record their check-ins.
        web_students = [WEB_RATE_STUDENTS + block * BLOCK + i for i in range(n)]
        service_students = [WEB_RATE_STUDENTS + (block + 1) * BLOCK + i for i in range(n)]
        await bench._register(web_students + service_students)
        web_session, service_session = await bench.new_session(), await bench.new_session()
        if rep % 2 == 0:
            http = await _web_rate(bench, client, web_session, web_students)
            service = await _service_rate(bench, service_session, service_students)
        else:
            service = await _service_rate(bench, service_session, service_students)
            http = await _web_rate(bench, client, web_session, web_students)
        bench.series["web_checkin_per_s"].add(http.per_second)
        bench.series["web_service_checkin_per_s"].add(service.per_second)
    bench.notes.append(
        (
            f"web burst: last confirmation over HTTP ({CONNECTIONS} connections) vs chat "
            "burst: last reply, same repetitions (s, medians)",
            f"{bench.series['web_burst_1000_confirmed_s'].median:.3f} vs "
            f"{bench.series['web_chat_burst_last_reply_s'].median:.3f}",
        )
    )
