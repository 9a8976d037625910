"""The Mini App check-in's fast lane (bot/web/miniapp_lane.py) answers exactly as the FastAPI
route would, and hands on whatever it does not recognise.

Three apps on the same running bot: the server's own (lane in front of the route), one with
the lane taken out (the route answers everything), and one with the route taken out (only
the lane can answer). Every request shape is sent to the first two by different students
in the same state; their answers must be the same, byte for byte in the body. The third
shows which shapes the lane answered itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.container import Services
from bot.web.app import create_web_app, front_door
from bot.web.miniapp_lane import CHECKIN_PATH, MiniAppCheckInLane
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.miniapp import init_data_for
from tests.support.web_server import running_web_server


@dataclass
class Apps:
    bot: BotHarness
    clock: ManualClock
    served: httpx.AsyncClient  # what the server serves: the lane in front of the app
    route_only: httpx.AsyncClient  # the lane taken out
    lane_only: httpx.AsyncClient  # the route taken out

    def auth(self, student: int) -> dict[str, str]:
        return {"Authorization": f"tma {init_data_for(student, self.clock.now())}"}


class _RouteGone(FastAPI):
    """The app with its state, answering 404 to whatever the lane hands on."""

    def __init__(self, web_app: FastAPI) -> None:
        super().__init__()
        self.state = web_app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("gone", 404)(scope, receive, send)


def _client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://attn")


@pytest.fixture
async def apps(services: Services, clock: ManualClock) -> AsyncIterator[Apps]:
    settings = make_settings(public_url="https://attn.example.org")
    async with BotHarness(settings, services) as bot:
        route_only = create_web_app(bot.app, settings)
        served = front_door(create_web_app(bot.app, settings), settings)
        lane_only = MiniAppCheckInLane(_RouteGone(create_web_app(bot.app, settings)))
        async with _client(served) as a, _client(route_only) as b, _client(lane_only) as c:
            yield Apps(bot, clock, a, b, c)


async def _start_session(apps: Apps, title: str) -> str:
    replies = await apps.bot.send(TEACHER_ID, f"/start_session 30 {title}")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", replies[0])
    assert code, replies
    return code[1]


def _shapes(code: str) -> list[tuple[str, bytes, dict[str, str], bool]]:
    """(name, body, headers beyond Authorization, whether the lane answers it itself)."""
    json_type = {"Content-Type": "application/json"}
    return [
        ("plain code", b'{"code":"%s"}' % code.encode(), json_type, True),
        ("lower case", b'{"code":"%s"}' % code.lower().encode(), json_type, True),
        ("wrong code", b'{"code":"ZZZZZZ"}', json_type, True),
        ("not a code", b'{"code":"hello there"}', json_type, True),
        (
            "with location",
            b'{"code":"%s","location":{"latitude":52.5,"longitude":13.4,"accuracy":12}}'
            % code.encode(),
            json_type,
            True,
        ),
        (
            "charset",
            b'{"code":"%s"}' % code.encode(),
            {"Content-Type": "application/json; charset=utf-8"},
            True,
        ),
        ("empty code", b'{"code":""}', json_type, False),
        ("code as number", b'{"code":123456}', json_type, False),
        ("extra field", b'{"code":"%s","note":"x"}' % code.encode(), json_type, False),
        (
            "latitude as text",
            b'{"code":"%s","location":{"latitude":"52.5","longitude":13.4}}' % code.encode(),
            json_type,
            False,
        ),
        (
            "latitude out of range",
            b'{"code":"%s","location":{"latitude":91,"longitude":13.4}}' % code.encode(),
            json_type,
            False,
        ),
        (
            "NaN",
            b'{"code":"%s","location":{"latitude":NaN,"longitude":1}}' % code.encode(),
            json_type,
            False,
        ),
        ("a list", b'["%s"]' % code.encode(), json_type, False),
        ("not JSON", b"code=%s" % code.encode(), json_type, False),
        (
            "form",
            b"code=%s" % code.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
            False,
        ),
        ("no content type", b'{"code":"%s"}' % code.encode(), {}, False),
        ("too long", b'{"code":"%s"}' % (b"A" * 5000), json_type, False),
        # Numbers and nesting Python's JSON reader takes but the lane's checks did not:
        # each was uvicorn's bare 500 with a traceback logged, for anyone, before initData
        # was even looked at; the route answers 422 or 400.
        (
            "integer too large for a float",
            b'{"code":"%s","location":{"latitude":1%s,"longitude":13.4}}'
            % (code.encode(), b"0" * 400),
            json_type,
            False,
        ),
        (
            "accuracy too large for a float",
            b'{"code":"%s","location":{"latitude":52.5,"longitude":13.4,"accuracy":1%s}}'
            % (code.encode(), b"0" * 309),
            json_type,
            False,
        ),
        ("nested a thousand deep", b"[" * 1500 + b"]" * 1500, json_type, False),
        (
            "location nested a thousand deep",
            b'{"code":"%s","location":%s}' % (code.encode(), b"[" * 1500 + b"]" * 1500),
            json_type,
            False,
        ),
        # A lone surrogate: the route's validation refuses the string (422), the lane said
        # "not a code" (400).
        ("lone surrogate", b'{"code":"%s\\ud800"}' % code.encode(), json_type, False),
    ]


async def _post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(CHECKIN_PATH, content=body, headers=headers)


async def test_the_lane_answers_as_the_route_and_hands_on_the_rest(apps: Apps) -> None:
    code = await _start_session(apps, "Lane")
    for number, (name, body, headers, in_lane) in enumerate(_shapes(code)):
        # Two students in the same state (never seen before), one per app.
        served = await _post(apps.served, body, {**apps.auth(5000 + number), **headers})
        route = await _post(apps.route_only, body, {**apps.auth(6000 + number), **headers})
        assert (served.status_code, served.content) == (route.status_code, route.content), name
        for header in ("content-type", "cache-control", "www-authenticate", "retry-after"):
            assert served.headers.get(header) == route.headers.get(header), (name, header)
        for header in ("x-content-type-options", "referrer-policy"):
            assert served.headers[header] == route.headers[header], (name, header)
        lane = await _post(apps.lane_only, body, {**apps.auth(7000 + number), **headers})
        if in_lane:
            assert lane.status_code == served.status_code, (name, lane.text)
        else:  # handed on, and the route is gone
            assert lane.status_code == 404, (name, lane.status_code, lane.text)
    session = await apps.bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    recorded = set(await apps.bot.services.live.checkins.checked_in(session.id))
    # The right code recorded its student in every app; "52.5" as text is the route's
    # (pydantic reads it as a number), so not where the route is gone; nothing else.
    expected = {base + n for base in (5000, 6000, 7000) for n in (0, 1, 4, 5)}
    assert recorded == expected | {5009, 6009}


async def test_refusals_and_limits_are_the_routes(apps: Apps) -> None:
    code = await _start_session(apps, "Lane refusals")
    body = b'{"code":"%s"}' % code.encode()
    json_type = {"Content-Type": "application/json"}
    for authorization in ("", "tma ", "tma query_id=1&hash=00", "Bearer x"):
        served = await _post(apps.served, body, {"Authorization": authorization, **json_type})
        route = await _post(apps.route_only, body, {"Authorization": authorization, **json_type})
        assert served.status_code == 401 and served.headers["www-authenticate"] == "tma"
        assert (served.status_code, served.content) == (route.status_code, route.content)
    missing = await _post(apps.served, body, json_type)
    assert missing.status_code == 401 and missing.json()["error"] == "missing"


async def test_no_body_is_a_bare_server_error_on_the_real_server(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Through uvicorn, as a phone (or anyone, without valid initData) reaches it: the
    bodies the lane could not read were uvicorn's plain 500 without the security headers,
    and an ERROR with a traceback in the log each time. Now the route's refusal."""
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app) as base,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http,
    ):
        lane = Apps(bot, clock, http, http, http)
        code = await _start_session(lane, "Lane on the wire")
        odd = [shape for shape in _shapes(code) if "deep" in shape[0] or "large" in shape[0]]
        assert len(odd) == 4
        for number, (name, body, headers, _) in enumerate(odd):
            for authorization in (lane.auth(8000 + number), {}):
                answer = await _post(http, body, {**authorization, **headers})
                assert answer.status_code in (400, 422), (name, answer.text)
                assert answer.headers["x-content-type-options"] == "nosniff", name
                assert answer.headers["cache-control"] == "no-store", name
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        assert not await bot.services.live.checkins.checked_in(session.id)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_forged_init_data_nested_deep_is_refused_on_every_call(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """initData's user object is read before its hash is checked (to word the refusal);
    nested a thousand deep it raised RecursionError: a 500 and a traceback for anyone."""
    settings = make_settings(public_url="https://attn.example.org")
    forged = {"Authorization": "tma user=" + "[" * 3000 + "&auth_date=1&hash=00"}
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app) as base,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http,
    ):
        answers = [
            await http.post(CHECKIN_PATH, json={"code": "K7M2QX"}, headers=forged),
            await http.post(  # (a Content-Type the lane hands on: the route's answer)
                CHECKIN_PATH,
                content=b'{"code":"K7M2QX"}',
                headers={**forged, "Content-Type": "application/json;charset=utf-8"},
            ),
            await http.get("/api/miniapp/history", headers=forged),
        ]
        for answer in answers:
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "invalid"
        config = await http.get("/api/miniapp/config", headers=forged)
        assert config.status_code == 200 and config.json()["refusal"]["error"] == "invalid"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _raw_check_in(authorization: str, body: bytes, length: int | None = None) -> bytes:
    """A check-in as bytes on the wire (Content-Length `length` when it lies)."""
    return (
        b"POST %s HTTP/1.1\r\nHost: attn\r\nContent-Type: application/json\r\n"
        b"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (
            CHECKIN_PATH.encode(),
            authorization.encode(),
            len(body) if length is None else length,
            body,
        )
    )


async def _read_until_quiet(reader: asyncio.StreamReader, answers: int) -> bytes:
    received = b""
    # (the last answer is a check-in's: its JSON body ends the exchange)
    while received.count(b"HTTP/1.1 ") < answers or not received.endswith(b"}"):
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        if not chunk:
            break
        received += chunk
    return received


async def test_pipelined_and_abandoned_requests_on_the_wire(
    services: Services, clock: ManualClock
) -> None:
    """Raw HTTP/1.1, as phones and proxies send it: requests pipelined on one keep-alive
    connection are answered in order, whichever way each goes (the lane, the route after the
    lane read its body, another route); a phone gone mid-body is not checked in, one gone
    right after sending its request is."""
    settings = make_settings(public_url="https://attn.example.org")
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app) as base,
        httpx.AsyncClient(base_url=base, trust_env=False, timeout=10) as http,
    ):
        wire = Apps(bot, clock, http, http, http)
        code = (await _start_session(wire, "On the wire")).encode()
        host, port = base.removeprefix("http://").split(":")

        def tma(student: int) -> str:
            return wire.auth(student)["Authorization"]

        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            _raw_check_in(tma(9001), b'{"code":"%s"}' % code)
            + _raw_check_in(tma(9002), b'{"code":"%s","note":"x"}' % code)  # handed on
            + b"GET /healthz HTTP/1.1\r\nHost: attn\r\n\r\n"
            + _raw_check_in(tma(9003), b'{"code":"%s"}' % code)
        )
        answers = await _read_until_quiet(reader, 4)
        writer.close()
        statuses = re.findall(rb"HTTP/1\.1 (\d{3})", answers)
        assert statuses == [b"200", b"422", b"200", b"200"], answers
        assert answers.count(b'"outcome":"recorded"') == 2 and b"\r\n\r\nok\n" in answers

        _, gone = await asyncio.open_connection(host, int(port))  # mid-body
        body = b'{"code":"%s"}' % code
        gone.write(_raw_check_in(tma(9004), body, length=len(body) + 10))
        await gone.drain()
        gone.close()
        _, sent = await asyncio.open_connection(host, int(port))  # whole, then gone
        sent.write(_raw_check_in(tma(9005), body))
        await sent.drain()
        sent.close()
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        for _ in range(50):
            recorded = set(await bot.services.live.checkins.checked_in(session.id))
            if 9005 in recorded:
                break
            await asyncio.sleep(0.05)
        assert recorded == {9001, 9003, 9005}
        assert (await http.get("/healthz")).text == "ok\n"
