"""Requests whose body stalls, or whose client goes mid-body, through uvicorn as a phone on
a poor network reaches the server: a stalled body is cut off with 408 after the idle limit
(uvicorn itself would wait for ever, holding the connection and a task), nothing is
handled, and no error reaches the log; a stream (server-sent events) outlives the limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from types import SimpleNamespace

import httpx
import pytest

from bot.container import Services
from bot.web import middleware, miniapp_lane
from bot.web.miniapp_api import API_PREFIX
from bot.web.state import Webhook
from bot.web.webhook import SECRET_HEADER
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import message_update
from tests.support.web_server import running_web_server
from tests.web.test_miniapp_lane import Apps
from tests.web.test_projector import ROTATION_SECONDS, _states, start, web_stack

IDLE = 0.3  # the idle limit in these tests (30 s in production)
HOOK = "/tg/hook"
SECRET = "slow-bodies_webhook-secret"
CHECKIN = f"{API_PREFIX}/checkin"


@pytest.fixture
def short_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(middleware, "BODY_IDLE_SECONDS", IDLE)
    monkeypatch.setattr(miniapp_lane, "BODY_IDLE_SECONDS", IDLE)


def _head(path: str, content_type: str, length: int, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: attn\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def _troubles(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Errors, and the web server's warnings (a request left unanswered, a 5xx)."""
    return [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        or (r.levelno >= logging.WARNING and r.name.startswith(("bot.web", "uvicorn")))
    ]


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := await asyncio.wait_for(reader.read(65536), 5):
        received += chunk
    return received


async def test_a_stalled_body_is_cut_off_with_408_and_nothing_is_handled(
    services: Services, clock: ManualClock, short_idle: None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, webhook=Webhook(HOOK, SECRET.encode())) as base,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http,
    ):
        apps = Apps(bot, clock, http, http, http)
        await bot.send(TEACHER_ID, "/start_session 30 Stalled")
        session = await services.sessions.open_session(TEACHER_ID)
        assert session is not None
        tma = apps.auth(7101)["Authorization"]
        update = str(message_update(TEACHER_ID + 1, "/start_session 10 Never")).encode()
        check_in = b'{"code":"%s"}' % session.code.encode()
        stalled = {  # what each sends before it stalls, then what the whole body would be
            "webhook": (
                _head(HOOK, "application/json", 400, f"{SECRET_HEADER}: {SECRET}\r\n"),
                update[:20],
            ),
            "lane": (
                _head(CHECKIN, "application/json", 60, f"Authorization: {tma}\r\n"),
                check_in[:5],
            ),
            "route": (  # a Content-Type the lane hands on: FastAPI reads the body
                _head(CHECKIN, "application/json;charset=utf-8", 60, f"Authorization: {tma}\r\n"),
                check_in[:5],
            ),
        }
        host, port = base.removeprefix("http://").split(":")
        sent = len(bot.request.sent())
        caplog.set_level(logging.DEBUG, logger="bot.web")
        for name, (head, part) in stalled.items():
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(head + part)
            await writer.drain()
            began = asyncio.get_running_loop().time()
            answer = await _answer(reader)  # the server closes the connection after it
            waited = asyncio.get_running_loop().time() - began
            writer.close()
            assert re.match(rb"HTTP/1\.1 408 ", answer), (name, answer)
            assert IDLE * 0.9 <= waited < IDLE + 3, (name, waited)
            if name == "lane":  # (the body limit answers the others, as it does a 413)
                assert b'"error":"timeout"' in answer, (name, answer)
        assert (await http.get("/healthz")).text == "ok\n"
        assert not await services.live.checkins.checked_in(session.id)
        assert len(bot.request.sent()) == sent  # nothing was said to anyone
        logged = [
            r.getMessage().split(" ")[:3] for r in caplog.records if " POST " in r.getMessage()
        ]
        assert logged == [  # each in the request log, quietly
            ["408", "POST", HOOK],
            ["408", "POST", CHECKIN],
            ["408", "POST", CHECKIN],
        ]
    assert not _troubles(caplog), caplog.text


async def test_a_slow_but_steady_body_is_waited_for(
    services: Services, clock: ManualClock, short_idle: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The limit is on each pause, not on the whole body: a phone whose check-in trickles in,
    piece by piece, each within the limit but all of it over it, is checked in, by the lane
    as by the route; a webhook update that trickles in is handled."""
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, webhook=Webhook(HOOK, SECRET.encode())) as base,
    ):
        apps = Apps(bot, clock, *(httpx.AsyncClient() for _ in range(3)))
        await bot.send(TEACHER_ID, "/start_session 30 Trickle")
        session = await services.sessions.open_session(TEACHER_ID)
        assert session is not None
        check_in = b'{"code":"%s"}' % session.code.encode()
        update = json.dumps(message_update(7203, "/help")).encode()
        sends = {
            7201: (CHECKIN, "application/json", check_in),  # the lane
            7202: (CHECKIN, "application/json;charset=utf-8", check_in),  # the route
            0: (HOOK, "application/json", update),
        }
        host, port = base.removeprefix("http://").split(":")
        for student, (path, kind, body) in sends.items():
            extra = (
                f"Authorization: {apps.auth(student)['Authorization']}\r\n"
                if student
                else f"{SECRET_HEADER}: {SECRET}\r\n"
            )
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(_head(path, kind, len(body), extra + "Connection: close\r\n"))
            pieces = 5  # 5 pauses of 0.6 x the limit: 3 x the limit in all
            step = -(-len(body) // pieces)
            for start in range(0, len(body), step):
                await asyncio.sleep(IDLE * 0.6)
                writer.write(body[start : start + step])
                await writer.drain()
            answer = await _answer(reader)
            writer.close()
            assert re.match(rb"HTTP/1\.1 200 ", answer), (path, kind, answer)
        recorded = await services.live.checkins.checked_in(session.id)
        assert set(recorded) == {7201, 7202}
        for _ in range(100):  # the update's reply leaves in the background
            if bot.request.texts(7203):
                break
            await asyncio.sleep(0.05)
        assert bot.request.texts(7203), "the trickled update was not handled"
    assert not _troubles(caplog), caplog.text


async def test_a_body_come_with_its_headers_arms_no_timer(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's `receive` that has its message already is awaited untimed (a timer per
    check-in costs more than the rest of the read); one that waits is timed."""
    armed: list[float] = []
    real_timeout = asyncio.timeout

    def counting_timeout(seconds: float) -> asyncio.Timeout:
        armed.append(seconds)
        return real_timeout(seconds)

    monkeypatch.setattr(
        middleware, "asyncio", SimpleNamespace(Event=asyncio.Event, timeout=counting_timeout)
    )
    settings = make_settings(public_url="https://attn.example.org")
    async with BotHarness(settings, services) as bot, running_web_server(bot.app) as base:
        apps = Apps(bot, clock, *(httpx.AsyncClient() for _ in range(3)))
        await bot.send(TEACHER_ID, "/start_session 30 Untimed")
        session = await services.sessions.open_session(TEACHER_ID)
        assert session is not None
        body = b'{"code":"%s"}' % session.code.encode()
        host, port = base.removeprefix("http://").split(":")
        for student, pause in ((7301, None), (7302, 0.2)):
            auth = f"Authorization: {apps.auth(student)['Authorization']}\r\nConnection: close\r\n"
            head = _head(CHECKIN, "application/json", len(body), auth)
            reader, writer = await asyncio.open_connection(host, int(port))
            if pause is None:
                writer.write(head + body)  # one packet
            else:
                writer.write(head + body[:3])
                await writer.drain()
                await asyncio.sleep(pause)
                writer.write(body[3:])
            answer = await _answer(reader)
            writer.close()
            assert re.match(rb"HTTP/1\.1 200 ", answer), answer
            if pause is None:
                assert armed == [], "a body that came with its headers was timed"
        assert armed and set(armed) == {middleware.BODY_IDLE_SECONDS}
        assert set(await services.live.checkins.checked_in(session.id)) == {7301, 7302}


async def test_a_client_gone_mid_body_is_not_an_error(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A phone losing its network mid-upload was an ERROR with a traceback from uvicorn
    ('Exception in ASGI application', starlette's ClientDisconnect) on every route that reads
    its body, and a WARNING for a request left unanswered."""
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, webhook=Webhook(HOOK, SECRET.encode())) as base,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http,
    ):
        caplog.set_level(logging.DEBUG, logger="bot.web")
        host, port = base.removeprefix("http://").split(":")
        heads = [
            _head(HOOK, "application/json", 400, f"{SECRET_HEADER}: {SECRET}\r\n"),
            _head(CHECKIN, "application/json;charset=utf-8", 60, "Authorization: tma x\r\n"),
        ]
        for head in heads:
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(head + b'{"upd')
            await writer.drain()
            await asyncio.sleep(0.2)  # the route is reading
            writer.close()
        for _ in range(50):  # both requests logged, quietly
            if sum(" POST " in r.getMessage() for r in caplog.records) >= 2:
                break
            await asyncio.sleep(0.05)
        posts = [r for r in caplog.records if " POST " in r.getMessage()]
        # The webhook reads its body itself: nobody to answer. FastAPI, reading a route's
        # JSON body, answers 400 to the empty line.
        assert [r.getMessage().split(" ")[0] for r in posts] == ["0", "400"], caplog.text
        assert all(r.levelno == logging.DEBUG for r in posts), caplog.text
        assert (await http.get("/healthz")).text == "ok\n"
        assert bot.request.sent() == []
    assert not _troubles(caplog), caplog.text


async def test_a_stream_outlives_the_idle_limit(
    redis_url: str, database_url: str, short_idle: None
) -> None:
    """The projector's events stream waits for its client to go, for as long as it stays:
    the body limit's idle timer is for bodies still coming, never for that wait."""
    clock = ManualClock()
    async with web_stack(redis_url, database_url, clock) as stack:
        session, link = await start(stack.services)
        async with (
            httpx.AsyncClient(base_url=stack.base, trust_env=False, timeout=10) as client,
            client.stream("GET", link.removeprefix(stack.base) + "/events") as response,
        ):
            assert response.status_code == 200
            async with contextlib.aclosing(_states(response)) as states:
                first = await asyncio.wait_for(anext(states), 2.0)
                assert first["code"] == session.code
                await asyncio.sleep(IDLE * 4)
                clock.advance(seconds=ROTATION_SECONDS)
                rotated = await stack.services.rotation.rotate_due_codes()
                state = await asyncio.wait_for(anext(states), 2.0)
                assert state["code"] == rotated[session.id]
