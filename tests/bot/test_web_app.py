"""The ASGI web server in-process: which mode runs it, what it refuses, the headers it sets,
what it logs, and how it drains (the webhook's own guarantees: test_webserver.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from telegram import Update
from telegram.ext import TypeHandler

from bot.container import Services
from bot.runner import web_server_for
from bot.web import app as web_app
from bot.web.middleware import MAX_BODY_BYTES
from bot.web.state import Webhook
from bot.web.webhook import SECRET_HEADER
from tests.bot.test_webserver import metric
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import message_update
from tests.support.web_server import reserve_port, running_server, running_web_server

SECRET = "in-process_webhook-secret"
PATH = "/tg/hook"
PUBLIC = "http://127.0.0.1:8443"


def client(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, trust_env=False, timeout=10)


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """A web feature with an HTML page, one with its own CSP, and a JSON route."""
    router = APIRouter()

    @router.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>t</title><p>hello</p>")

    @router.get("/framed")
    async def framed() -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'none'"})

    @router.get("/p/{token}")
    async def by_token(token: str) -> Response:
        return Response(b'{"ok": true}', media_type="application/json")

    monkeypatch.setattr(web_app, "feature_routers", lambda: [router])


async def test_polling_mode_runs_the_web_server_only_with_a_public_url(
    services: Services,
) -> None:
    async with BotHarness(make_settings(), services) as harness:
        assert web_server_for(harness.app, make_settings()) is None
    settings = make_settings(public_url=PUBLIC + "/")
    assert settings.public_url == PUBLIC and settings.web_enabled
    async with BotHarness(settings, services) as harness:
        server = web_server_for(harness.app, settings)
        assert server is not None
        assert (server.host, server.port) == ("127.0.0.1", 8080)  # ATTN_LISTEN_*
        sock, url = reserve_port()
        await server.start(sock)
        try:
            async with client(url) as http:
                assert (await http.get("/healthz")).text == "ok\n"
                assert (await http.get("/readyz")).json()["ready"] is True
                # No webhook in polling mode: Telegram's path is nothing special here.
                response = await http.post(
                    "/", json=message_update(TEACHER_ID, "/start_session 10 X")
                )
                assert response.status_code in (404, 405)
            assert harness.request.sent() == []
        finally:
            server.stop_accepting()
            await server.close()


async def test_unknown_paths_are_404_and_features_need_a_public_url(
    services: Services, pages: None
) -> None:
    async with (
        BotHarness(make_settings(), services) as harness,
        running_web_server(harness.app) as base,
        client(base) as http,
    ):
        assert (await http.get("/nowhere")).status_code == 404
        assert (await http.get("/page")).status_code == 404  # web features off
        assert (await http.get("/openapi.json")).status_code == 404
        assert (await http.get("/static/theme.css")).status_code == 200
    async with (
        BotHarness(make_settings(public_url=PUBLIC), services) as harness,
        running_web_server(harness.app) as base,
        client(base) as http,
    ):
        assert (await http.get("/page")).status_code == 200
        assert (await http.get("/nowhere")).status_code == 404
        assert (await http.get("/static/nothing.css")).status_code == 404


async def test_html_gets_a_strict_csp_and_every_response_the_safe_headers(
    services: Services, pages: None
) -> None:
    async with (
        BotHarness(make_settings(public_url=PUBLIC), services) as harness,
        running_web_server(harness.app) as base,
        client(base) as http,
    ):
        page = await http.get("/page")
        assert page.status_code == 200 and "hello" in page.text
        csp = page.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self' https://telegram.org"  # no inline script
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
        assert "https://web.telegram.org" in directives["frame-ancestors"]
        assert "unsafe" not in csp
        assert page.headers["cache-control"] == "no-store"

        own = await http.get("/framed")
        assert own.headers["content-security-policy"] == "default-src 'none'"

        for response in (page, own, await http.get("/healthz"), await http.get("/nowhere")):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
        assert "content-security-policy" not in (await http.get("/healthz")).headers
        assert "server" not in page.headers


async def test_the_request_log_shows_route_templates_not_path_secrets(
    services: Services, pages: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.web")
    async with (
        BotHarness(make_settings(public_url=PUBLIC), services) as harness,
        running_web_server(harness.app) as base,
        client(base) as http,
    ):
        assert (await http.get("/p/S3cretToken?k=Qu3rySecret")).status_code == 200
        # A link with a slash added, or a path under it, matches no route: the path's
        # secret stays out of the log all the same.
        assert (await http.get("/p/S3cretToken/")).status_code == 307
        assert (await http.get("/p/S3cretToken/events/x")).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
    assert any(line.startswith("200 GET /p/{token} ") for line in lines), lines
    assert any(line.startswith("307 GET /p/… ") for line in lines), lines
    assert any(line.startswith("404 GET /p/… ") for line in lines), lines
    assert not any("S3cretToken" in line or "Qu3rySecret" in line for line in lines)


@pytest.fixture
async def hooked(services: Services) -> AsyncIterator[tuple[BotHarness, httpx.AsyncClient]]:
    async with (
        BotHarness(make_settings(), services) as harness,
        running_web_server(harness.app, webhook=Webhook(PATH, SECRET.encode())) as base,
        client(base) as http,
    ):
        yield harness, http


async def test_an_oversize_body_is_refused_and_nothing_is_handled(
    hooked: tuple[BotHarness, httpx.AsyncClient],
) -> None:
    harness, http = hooked
    update = message_update(TEACHER_ID, "/start_session 10 Big")
    padding = "x" * MAX_BODY_BYTES
    big = ('{"padding": "' + padding + '", ' + str(update).replace("'", '"')[1:]).encode()
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    declared = await http.post(PATH, content=big, headers=headers)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    chunked = await http.post(PATH, content=chunks(), headers=headers)
    assert chunked.status_code == 413
    assert harness.request.sent() == []
    assert await harness.services.sessions.open_session(TEACHER_ID) is None
    assert metric((await http.get("/metrics")).text, "attn_updates_total") == 0


async def test_a_wrong_secret_is_403_and_nothing_is_handled(
    hooked: tuple[BotHarness, httpx.AsyncClient],
) -> None:
    harness, http = hooked
    update = message_update(TEACHER_ID, "/start_session 10 Forged")
    non_ascii = (SECRET[:-1] + "Ü").encode()
    hook = SECRET_HEADER.encode()
    for headers in ({}, {hook: b"nope"}, {hook: non_ascii}):
        assert (await http.post(PATH, json=update, headers=headers)).status_code == 403
    assert harness.request.sent() == []
    assert await harness.services.sessions.open_session(TEACHER_ID) is None
    text = (await http.get("/metrics")).text
    assert metric(text, "attn_updates_total") == 0
    assert metric(text, 'attn_errors_total{kind="webhook_forbidden"}') == 3


async def test_stopping_finishes_the_update_in_flight_and_takes_no_new_one(
    services: Services,
) -> None:
    """What `attn run` does on SIGTERM: stop accepting, let the update finish, then close."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(update: Update, context: object) -> None:
        entered.set()
        await release.wait()

    async with BotHarness(make_settings(), services) as harness:
        harness.app.add_handler(TypeHandler(Update, slow), group=-2000)
        webhook = Webhook(PATH, SECRET.encode())
        async with (
            running_server(harness.app, webhook=webhook) as server,
            client(server.base_url) as http,
            client(server.base_url) as other,
        ):
            assert (await other.get("/healthz")).status_code == 200  # kept alive
            headers = {SECRET_HEADER: SECRET}
            posting = asyncio.create_task(
                http.post(
                    PATH, json=message_update(TEACHER_ID, "/start_session 10 A"), headers=headers
                )
            )
            await asyncio.wait_for(entered.wait(), 5)
            assert server.in_flight == 1
            server.stop_accepting()
            # A connection opened before keeps working: unready, and no new update taken.
            assert (await other.get("/readyz")).status_code == 503
            late = await other.post(
                PATH, json=message_update(TEACHER_ID + 1, "/start_session 10 B"), headers=headers
            )
            assert late.status_code == 503 and late.headers["retry-after"] == "5"
            with pytest.raises(httpx.ConnectError):  # and no new connection is accepted
                async with client(server.base_url) as fresh:
                    await fresh.get("/healthz")
            assert not posting.done()
            release.set()
            await asyncio.wait_for(server.idle(), 5)
            response = await asyncio.wait_for(posting, 5)
            assert response.status_code == 200  # answered only once handled
            assert await harness.services.sessions.open_session(TEACHER_ID) is not None
            assert await harness.services.sessions.open_session(TEACHER_ID + 1) is None
