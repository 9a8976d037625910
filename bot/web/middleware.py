"""Pure ASGI middleware of the web server: body limits, security headers, request log.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs the route in another task:
a webhook update cut off at shutdown must see its own cancellation (bot/web/webhook.py), and
streamed responses (server-sent events) must not be buffered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("bot.web")

MAX_BODY_BYTES: Final = 1024 * 1024  # Telegram's updates are a few kilobytes
# The longest a request's body may pause between two pieces: a phone on a poor network sends
# a check-in's few hundred bytes in one piece; a client that stops half-way holds a
# connection and a task until it is cut off (uvicorn itself waits for ever).
BODY_IDLE_SECONDS: Final = 30.0
# A scope key (ASGI lets a server's middleware add its own): the client went away before its
# request was whole, so there was nobody to answer (RequestLog says so, quietly).
CLIENT_GONE: Final = "attn.client_gone"

# Telegram's Mini App script comes from telegram.org; Telegram Web (web.telegram.org) shows a
# Mini App in an iframe (the phone and desktop apps use a web view, which no CSP concerns).
DEFAULT_CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
        "object-src 'none'",
        "base-uri 'none'",
    )
)


class BodyRefused(Exception):
    """A request body went over the size limit or stalled while being read (answered)."""


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, and bodies that stall for
    `BODY_IDLE_SECONDS` with 408, before the route sees them; a client gone before its body
    was whole ends the request quietly (nothing to answer, nothing handled).

    A declared Content-Length over the limit is refused without reading; a chunked body is
    counted as it is read, and the route is stopped when it goes over.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _plain(send, 400, b"bad content-length\n")
                    return
                if declared > self.limit:
                    await _plain(send, 413, b"too large\n")
                    return
        received = 0
        started = False
        refused = False
        whole = False  # the body's last piece came: only a disconnect is left to wait for

        async def counting_receive() -> Message:
            nonlocal received, refused, whole
            if refused:
                return {"type": "http.disconnect"}
            if whole:  # (a stream's listener waits here for the client to go, for ever)
                return await receive()
            try:
                message = await receive_within(receive, BODY_IDLE_SECONDS)
            except TimeoutError:
                # Answered here, whatever the route does with the error: it reads on as if
                # the client had gone, and what it sends is dropped.
                refused = True
                if not started:
                    await _plain(send, 408, b"request body too slow\n")
                raise BodyRefused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if received > self.limit:
                    refused = True
                    if not started:
                        await _plain(send, 413, b"too large\n")
                    raise BodyRefused
            elif message["type"] == "http.disconnect":
                scope[CLIENT_GONE] = True
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyRefused:  # already answered
            pass
        except ClientDisconnect:  # a route read the body of a client that had gone
            if not scope.get(CLIENT_GONE):
                raise


async def receive_within(receive: Receive, seconds: float) -> Message:
    """`receive()`, given up with TimeoutError after `seconds` of waiting for the client.

    uvicorn's `receive` whose message has already arrived (its cycle's `message_event` is
    set: a check-in's body comes in the packet of its headers) does not wait, so it is
    awaited without arming a timer, which would cost more than the rest of the call. Any
    other `receive` is timed.
    """
    event = getattr(getattr(receive, "__self__", None), "message_event", None)
    if isinstance(event, asyncio.Event) and event.is_set():
        return await receive()
    async with asyncio.timeout(seconds):
        return await receive()


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Every response: nosniff, no referrer, and `Cache-Control: no-store` unless the route
    set one (static files aside); every HTML response: the strict CSP unless the route set
    its own `Content-Security-Policy`."""

    def __init__(self, app: ASGIApp, csp: str = DEFAULT_CSP) -> None:
        self.app = app
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLog:
    """One line per request: status, method, the route's path template, milliseconds.

    The template (`/p/{token}`), not the path, once a route matched (else the path's first
    segment only): a credential in a path never reaches the log; headers and query strings
    are never logged. 5xx and requests left unanswered at WARNING, the rest (and a client
    gone before its request was whole, logged with status 0) at DEBUG (a webhook gets
    thousands of requests a minute).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 0

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            if scope["type"] == "websocket":
                status = status or 101
            # No answer (0) is a fault of ours, unless the client went before its request
            # was whole (a phone losing its network mid-upload).
            unanswered = status == 0 and not scope.get(CLIENT_GONE)
            level = logging.WARNING if status >= 500 or unanswered else logging.DEBUG
            log.log(
                level,
                "%d %s %s %.1fms",
                status,
                scope.get("method", "WS"),
                logged_path(scope),
                1000.0 * (time.perf_counter() - began),
            )


def logged_path(scope: Scope) -> str:
    """What the log may show of a request's path (see `RequestLog`)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    # No route matched (a link with a slash added, a path under a token): only the first
    # segment, as any later one may be a credential.
    first, slash, _rest = str(scope.get("path", "")).lstrip("/").partition("/")
    first = first if len(first) <= 40 else first[:40] + "…"
    return f"/{first}/…" if slash else f"/{first}"
