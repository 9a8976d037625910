"""The HTTP server of webhook mode: Telegram's webhook, `/healthz`, `/readyz` and `/metrics`.

Tornado (already a dependency of python-telegram-bot's webhook extra) on one port.

An update posted to the webhook is answered 200 only after its handlers have run (a reply
they send in the background may still be on its way), not when it is queued: Telegram keeps,
and sends again, every update it got no 200 for, so an update is not lost when the process
stops or dies before handling it. Telegram's `max_connections` (40 by default) bounds how many
updates arrive at once; python-telegram-bot's concurrency limit applies as in polling mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
from typing import TYPE_CHECKING

from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from bot.context import SERVICES_KEY
from bot.metrics import WEBHOOK_FORBIDDEN, metrics_of

if TYPE_CHECKING:
    from bot.context import AttnApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # Telegram's updates are a few kilobytes


class WebServer:
    """Serves the webhook (when a path and secret are given) and the operational endpoints."""

    def __init__(
        self,
        application: AttnApplication,
        *,
        host: str,
        port: int,
        webhook_path: str | None = None,
        secret: str | None = None,
        ready_timeout: float = 2.0,
    ) -> None:
        if webhook_path is not None and not secret:
            raise ValueError("a webhook needs a secret token")
        self.application = application
        self.host = host
        self.port = port
        self.webhook_path = webhook_path
        self.secret = secret.encode() if secret else b""
        self.ready_timeout = ready_timeout
        self.closing = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._server: HTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (port 0 picks a free port; `self.port` is the real one afterwards)."""
        routes: list[tuple[str, type[_Handler], dict[str, object]]] = [
            (r"/healthz", _HealthHandler, {"server": self}),
            (r"/readyz", _ReadyHandler, {"server": self}),
            (r"/metrics", _MetricsHandler, {"server": self}),
        ]
        if self.webhook_path is not None:
            routes.insert(0, (_exact(self.webhook_path), _WebhookHandler, {"server": self}))
        app = TornadoApplication(routes, log_function=_log_request)
        self._server = HTTPServer(app, max_body_size=MAX_BODY_BYTES, xheaders=False)
        sockets = bind_sockets(self.port, self.host, family=_family(self.host))
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("listening on %s:%d", self.host, self.port)

    def stop_accepting(self) -> None:
        """Refuse new connections; requests on open ones get 503 (Telegram will retry them)."""
        self.closing = True
        if self._server is not None:
            self._server.stop()

    async def idle(self) -> None:
        """Return once no webhook update is being handled."""
        await self._idle.wait()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def close(self) -> None:
        """Close every connection still open (after `stop_accepting` and `drain`)."""
        server, self._server = self._server, None
        if server is not None:
            self.closing = True
            server.stop()
            await server.close_all_connections()

    # --- webhook --------------------------------------------------------------------------

    def secret_matches(self, given: str | None) -> bool:
        if not self.secret or given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.secret)

    async def handle(self, update: Update) -> None:
        """Handle one update as polling would, and return when its handlers are done."""
        application = self.application
        self._in_flight += 1
        self._idle.clear()
        coroutine = application.process_update(update)
        try:
            await application.update_processor.process_update(update, coroutine)
        except asyncio.CancelledError:
            # Cut off at shutdown: Telegram will deliver it again, so it must not stay
            # marked as handled (every handler copes with a partly done first attempt).
            await asyncio.shield(self._release_claim(update))
            raise
        finally:
            coroutine.close()  # only does something when cancelled before it started
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _release_claim(self, update: Update) -> None:
        user = update.effective_user
        services = self.application.bot_data.get(SERVICES_KEY)
        if user is None or services is None:
            return
        with contextlib.suppress(Exception):  # best effort; the claim expires in 24 h anyway
            await asyncio.wait_for(services.users.release_update(user.id, update.update_id), 1)


def _exact(path: str) -> str:
    return re.escape(path) + "$"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _log_request(handler: RequestHandler) -> None:
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    request = handler.request
    log.log(
        level,
        "%d %s %s %.1fms",
        status,
        request.method,
        request.path,
        1000.0 * request.request_time(),
    )


class _Handler(RequestHandler):
    server: WebServer

    def initialize(self, server: WebServer) -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def reply(self, status: int, body: str | bytes | dict[str, object], **headers: str) -> None:
        self.set_status(status)
        for name, value in headers.items():
            self.set_header(name.replace("_", "-"), value)
        if isinstance(body, dict):
            self.set_header("Content-Type", "application/json")
            body = json.dumps(body)
        elif isinstance(body, str):
            self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(body)


class _WebhookHandler(_Handler):
    async def post(self) -> None:
        server = self.server
        if not server.secret_matches(self.request.headers.get(SECRET_HEADER)):
            metrics_of(server.application).error(WEBHOOK_FORBIDDEN)
            log.warning("refused a webhook request from %s: wrong secret", self.request.remote_ip)
            self.reply(403, "forbidden\n")
            return
        if server.closing:
            self.reply(503, "shutting down\n", Retry_After="5")
            return
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, server.application.bot)
        except Exception as exc:
            log.warning("webhook body is not a Telegram update: %s", type(exc).__name__)
            self.reply(400, "bad update\n")
            return
        await server.handle(update)
        self.reply(200, "ok\n")


class _HealthHandler(_Handler):
    def get(self) -> None:
        self.reply(200, "ok\n")


class _ReadyHandler(_Handler):
    async def get(self) -> None:
        server = self.server
        services = server.application.bot_data.get(SERVICES_KEY)
        if services is None or server.closing:
            state = "stopping" if server.closing else "starting"
            self.reply(503, {"ready": False, "state": state})
            return
        checks = await services.ready(server.ready_timeout)
        ready = all(checks.values())
        body: dict[str, object] = {"ready": ready}
        body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
        self.reply(200 if ready else 503, body)


class _MetricsHandler(_Handler):
    def get(self) -> None:
        body, content_type = metrics_of(self.server.application).render()
        self.reply(200, body, Content_Type=content_type)
