"""The webhook-mode HTTP server in-process: the secret, readiness, exact metrics (readiness
under real outages: tests/integration/test_webserver_outages.py)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.container import Services
from bot.web.server import WebServer
from bot.web.state import Webhook
from bot.web.webhook import SECRET_HEADER
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import message_update
from tests.support.web_server import running_server

SECRET = "in-process_webhook-secret"
PATH = "/tg/hook"


async def serve(
    services: Services,
) -> AsyncIterator[tuple[BotHarness, WebServer, httpx.AsyncClient]]:
    async with (
        BotHarness(make_settings(), services) as harness,
        running_server(harness.app, webhook=Webhook(PATH, SECRET.encode())) as server,
        httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=10) as client,
    ):
        yield harness, server, client


@pytest.fixture
async def web(services: Services) -> AsyncIterator[tuple[BotHarness, WebServer, httpx.AsyncClient]]:
    async for served in serve(services):
        yield served


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, flags=re.MULTILINE)
    assert match is not None, f"{name} not in /metrics"
    return float(match[1])


async def post_update(
    client: httpx.AsyncClient, user: int, text: str, secret: str | None = SECRET
) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await client.post(PATH, json=message_update(user, text), headers=headers)


async def test_the_webhook_wants_the_secret_and_answers_after_handling(
    web: tuple[BotHarness, WebServer, httpx.AsyncClient],
) -> None:
    harness, _, client = web
    for secret in (None, "", "wrong", SECRET.upper(), SECRET + "x"):
        response = await post_update(client, TEACHER_ID, "/start_session 10 Nope", secret)
        assert response.status_code == 403
    assert harness.request.sent() == []
    assert await harness.services.sessions.open_session(TEACHER_ID) is None

    response = await post_update(client, TEACHER_ID, "/start_session 10 Yes")
    assert response.status_code == 200
    # Answered only once handled: the reply is already out and the session exists.
    assert len(harness.request.sent(TEACHER_ID)) == 1
    assert await harness.services.sessions.open_session(TEACHER_ID) is not None

    bad = await client.post(PATH, content=b"{not json", headers={SECRET_HEADER: SECRET})
    assert bad.status_code == 400
    text = (await client.get("/metrics")).text
    assert metric(text, 'attn_errors_total{kind="webhook_forbidden"}') == 5
    assert metric(text, "attn_updates_total") == 1


async def test_metrics_count_check_ins_exactly(
    web: tuple[BotHarness, WebServer, httpx.AsyncClient],
) -> None:
    harness, _, client = web
    await post_update(client, TEACHER_ID, "/start_session 10 Counting")
    session = await harness.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    students = range(5001, 5041)
    responses = await asyncio.gather(
        *(post_update(client, s, f"/checkin {session.code}") for s in students)
    )
    assert {r.status_code for r in responses} == {200}
    for student in list(students)[:7]:
        assert (await post_update(client, student, f"/checkin {session.code}")).status_code == 200
    await post_update(client, 5999, "/checkin ZZZZZZ")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert metric(text, 'attn_checkins_total{outcome="recorded"}') == 40
    assert metric(text, 'attn_checkins_total{outcome="duplicate"}') == 7
    assert metric(text, 'attn_checkins_total{outcome="wrong_code"}') == 1
    assert metric(text, "attn_updates_total") == 1 + 40 + 7 + 1


async def test_a_stopping_server_turns_unready_and_refuses_updates(
    web: tuple[BotHarness, WebServer, httpx.AsyncClient],
) -> None:
    harness, server, client = web
    server.closing = True  # what stop_accepting() sets, with the listening socket still open
    assert (await client.get("/readyz")).status_code == 503
    response = await post_update(client, TEACHER_ID, "/start_session 10 Late")
    assert response.status_code == 503  # Telegram keeps the update for the next process
    assert harness.request.sent() == []


async def test_connections_send_without_waiting_for_the_clients_ack(
    web: tuple[BotHarness, WebServer, httpx.AsyncClient],
) -> None:
    """Every accepted connection has TCP_NODELAY: without it Nagle held each response's body
    behind its headers until the client's delayed ACK, ~40 ms per request."""
    _, server, client = web
    assert (await client.get("/healthz")).status_code == 200
    assert server._server is not None
    connections = list(server._server.server_state.connections)
    assert connections
    for protocol in connections:
        sock = protocol.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
