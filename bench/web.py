"""The Mini App's check-in over HTTP (issue 14): a burst of 1,000 students checking in at
once through `POST /api/miniapp/checkin`, and the HTTP check-in rate against the service's.

The server is the bot's real web server (`bot.web.server.WebServer`: uvicorn, the FastAPI app
with its middleware, the Mini App router) in the bench's event loop, on the bench's services
and Application, listening on loopback TCP. The client (`HallClient`) speaks HTTP/1.1 over
at most `CONNECTIONS` (100) keep-alive connections: a hall's phones reach the server
through a proxy that keeps a bounded pool of upstream connections, not 1,000 at once. Every
request carries its own student's `Authorization: tma <initData>`, signed with the bot token
as Telegram signs it, so each one pays for validating it.

`web_burst_1000_confirmed_s`: all 1,000 requests handed to the client at once; seconds until
the last 200 with outcome `recorded` came back. Beside it, in the same repetition and in
alternating order, the chat path's burst as `chat_burst_1000_last_reply_s` measures it
(`Bench._chat_burst`: the production Application, flood limiter on): 1,000 `/checkin`
updates handed over at once, seconds until the last reply was sent (printed beside it).

`web_checkin_per_s` / `web_service_checkin_per_s`: distinct students checking in through HTTP
(`CONNECTIONS` in flight) against `CheckInService.check_in` (the bench's 100 in flight) in
the same repetition; `web_checkin_ratio` is their ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from datetime import datetime

from bench.fake_telegram import TOKEN
from bench.measure import Run, gather_all, run_concurrent
from bench.scenarios import BLOCK, Bench, BenchError
from bot.web.init_data import signed_init_data
from bot.web.server import WebServer
from services.models import CheckInOutcome, Session

#: Connections the client keeps open to the server (requests beyond wait for one).
CONNECTIONS = 100
CHECKIN_PATH = "/api/miniapp/checkin"
WEB_STUDENTS = 7_700_000_000
WEB_RATE_STUDENTS = 7_800_000_000
#: Blocks of the chat burst's students (`Bench._chat_burst`) far above the chat phase's.
CHAT_BLOCKS = 50
WARMUP = 300


def init_data(student: int, now: datetime) -> str:
    """What Telegram hands the Mini App of `student`, signed with the bench's bot token."""
    user = {"id": student, "first_name": f"Student{student % 100000}", "language_code": "en"}
    fields = {
        "query_id": f"AAH{student}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(now.timestamp())),
    }
    return signed_init_data(fields, TOKEN)


def _headers(students: Sequence[int], now: datetime) -> list[str]:
    return [f"tma {init_data(s, now)}" for s in students]


class HallClient:
    """At most `connections` keep-alive HTTP/1.1 connections to the server; each request
    waits for a free one (as a hall's phones behind a proxy's upstream pool).

    Why not httpx here: its connection pool scans every waiting request on every change, so
    1,000 requests queued on 100 connections time out in the client (PoolTimeout) before
    the server is the limit; this client costs a few dozen microseconds a request, so the
    figure is the server's. Responses are parsed strictly (status line, Content-Length).
    """

    def __init__(self, host: str, port: int, connections: int) -> None:
        self._host, self._port = host, port
        self._size = connections
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._all: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            self._all.append(writer)
            self._idle.put_nowait((reader, writer))

    async def close(self) -> None:
        for writer in self._all:
            writer.close()
        for writer in self._all:
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def post_json(self, path: str, body: bytes, authorization: str) -> tuple[int, bytes]:
        """(status, body) of one POST with a JSON body."""
        reader, writer = await self._idle.get()
        try:
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
                f"Authorization: {authorization}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise BenchError(f"a response without Content-Length: {head!r}")
            answer = await reader.readexactly(length)
        except BaseException:
            writer.close()  # a half-read connection is never reused
            raise
        self._idle.put_nowait((reader, writer))
        return status, answer


async def _check_in(client: HallClient, authorization: str, code: str) -> float:
    """One check-in; the perf_counter when its confirmation came back (verified)."""
    body = json.dumps({"code": code}).encode()
    status, answer = await client.post_json(CHECKIN_PATH, body, authorization)
    if status != 200:
        raise BenchError(f"the Mini App answered {status}: {answer[:200]!r}")
    if json.loads(answer)["outcome"] != CheckInOutcome.RECORDED.value:
        raise BenchError(f"the Mini App answered {answer[:200]!r}")
    return time.perf_counter()


async def _web_burst(bench: Bench, client: HallClient, block: int) -> float:
    n = bench.sizes.burst
    students = [WEB_STUDENTS + block * BLOCK + i for i in range(n)]
    await bench._register(students)
    session = await bench.new_session()
    headers = _headers(students, bench.services.sessions.now())
    confirmed: list[float] = []

    async def one(i: int) -> None:
        confirmed.append(await _check_in(client, headers[i], session.code))

    started = time.perf_counter()
    await gather_all(one(i) for i in range(n))
    last = max(confirmed) - started
    if len(confirmed) != n:
        raise BenchError(f"web burst: {len(confirmed)} confirmations of {n}")
    await bench._expect_recorded(session, n, "web burst")
    return last


async def _chat_burst(bench: Bench, rep: int) -> float:
    """The chat path's burst in the same repetition, as `chat_burst_1000_last_reply_s`
    measures it (the production Application, flood limiter on, no imposed limit): seconds
    until the last reply; every student answered once. Its own students."""
    return await bench._chat_burst(CHAT_BLOCKS + 2 * rep, None)


async def _web_rate(
    bench: Bench, client: HallClient, session: Session, students: Sequence[int]
) -> Run:
    headers = _headers(students, bench.services.sessions.now())
    code = session.code

    async def one(i: int) -> None:
        await _check_in(client, headers[i], code)

    run = await run_concurrent(len(students), CONNECTIONS, one)
    await bench._expect_recorded(session, len(students), "web check-ins")
    return run


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
    client = HallClient("127.0.0.1", server.port, CONNECTIONS)
    try:
        await client.open()
        await _measure(bench, client)
    finally:
        await client.close()
        server.stop_accepting()
        await server.idle()
        await server.close()


async def _measure(bench: Bench, client: HallClient) -> None:
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
