"""The hall's phones, in a process of their own: the HTTP client of bench/web.py.

A server's rate is measured from outside it, as the phones of a hall are outside it: a
client in the server's own process and event loop would charge the server for every byte
the client writes and parses. `HallProcess` starts `python -m bench.hall_client` once per
measurement and hands it jobs over a pipe; the child keeps its keep-alive connections open
between jobs and answers each job with its timings (the check of every answer is the
child's; the parent checks the store).

Protocol: one JSON object per line each way.
    job:    {"op": "burst" | "rate", "first": int, "count": int, "code": str,
             "auth_date": int}
    answer: {"seconds": float} (burst: until the last confirmation; rate: all of them)
            or {"error": str}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence

from bench.fake_telegram import TOKEN
from bot.web.init_data import signed_init_data

CHECKIN_PATH = "/api/miniapp/checkin"
RECORDED = "recorded"


class ClientError(Exception):
    """An answer that was not a confirmation (or not HTTP)."""


def init_data(student: int, auth_date: int) -> str:
    """What Telegram hands the Mini App of `student`, signed with the bench's bot token."""
    user = {"id": student, "first_name": f"Student{student % 100000}", "language_code": "en"}
    fields = {
        "query_id": f"AAH{student}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(auth_date),
    }
    return signed_init_data(fields, TOKEN)


class HallClient:
    """At most `connections` keep-alive HTTP/1.1 connections to the server; each request
    waits for a free one (as a hall's phones behind a proxy's upstream pool).

    Why not httpx here: its connection pool scans every waiting request on every change, so
    1,000 requests queued on 100 connections time out in the client (PoolTimeout) before
    the server is the limit. Responses are parsed strictly (status line, Content-Length).
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
                raise ClientError(f"a response without Content-Length: {head!r}")
            answer = await reader.readexactly(length)
        except BaseException:
            writer.close()  # a half-read connection is never reused
            raise
        self._idle.put_nowait((reader, writer))
        return status, answer

    async def check_in(self, authorization: str, body: bytes) -> float:
        """One check-in; the perf_counter when its confirmation came back (verified)."""
        status, answer = await self.post_json(CHECKIN_PATH, body, authorization)
        if status != 200:
            raise ClientError(f"the Mini App answered {status}: {answer[:200]!r}")
        if json.loads(answer)["outcome"] != RECORDED:
            raise ClientError(f"the Mini App answered {answer[:200]!r}")
        return time.perf_counter()


async def _burst(client: HallClient, headers: Sequence[str], body: bytes) -> float:
    started = time.perf_counter()
    confirmed = await asyncio.gather(*(client.check_in(h, body) for h in headers))
    return max(confirmed) - started


async def _rate(client: HallClient, headers: Sequence[str], body: bytes, concurrency: int) -> float:
    pending = iter(headers)

    async def worker() -> None:
        for authorization in pending:
            await client.check_in(authorization, body)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(headers)))))
    return time.perf_counter() - started


async def serve_jobs(host: str, port: int, connections: int) -> None:
    """Answer the jobs on stdin until it closes."""
    client = HallClient(host, port, connections)
    await client.open()
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            job = json.loads(line)
            first, count = int(job["first"]), int(job["count"])
            headers = [
                f"tma {init_data(s, int(job['auth_date']))}" for s in range(first, first + count)
            ]
            body = json.dumps({"code": job["code"]}).encode()
            try:
                if job["op"] == "burst":
                    seconds = await _burst(client, headers, body)
                else:
                    seconds = await _rate(client, headers, body, connections)
                answer: dict[str, object] = {"seconds": seconds}
            except (ClientError, OSError, asyncio.IncompleteReadError) as exc:
                answer = {"error": str(exc)[:500]}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(serve_jobs(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
