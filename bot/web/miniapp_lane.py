"""The Mini App check-in's fast lane: `POST /api/miniapp/checkin` with a plain JSON body,
answered before FastAPI routes the request and validates it.

A full hall checks in within the same minute, each phone once, with the same small body:
`{"code": "..."}` (and a location when the session asks). FastAPI's routing through every
route of the server, its body validation and its response machinery cost about as much as
the check-in itself (bench/web.py). This lane recognises that one request and answers it
with `check_in_answer`, the function the FastAPI route calls, so both give the same answer.
Anything else it hands on untouched (with the body it read, replayed): another route, a
body it cannot read as exactly the plain shape (the route's validation answers it, as
before), a missing or odd Content-Type or Content-Length, a server still starting.

It is the server's front door (`WebServer` puts it in front of the FastAPI app): FastAPI's
own layers and the middleware (bot/web/middleware.py) cost as much again, so what they give
every response it gives its own answers: the security headers, no-store, one request-log
line with the route's template, and a polite 500 with the traceback logged. It reads no body
over `LANE_BODY_LIMIT` (those go the long way, through the body limit).
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Final

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from bot.context import SERVICES_KEY, AttnApplication
from bot.text import t
from bot.web.middleware import BODY_IDLE_SECONDS, logged_path, receive_within
from bot.web.miniapp import Location, plain
from bot.web.miniapp_api import API_PREFIX, ApiAnswer, check_in_answer

log = logging.getLogger("bot.web")

CHECKIN_PATH: Final = f"{API_PREFIX}/checkin"
# A code, a QR's link and a location are well under this; a larger body goes the long way.
LANE_BODY_LIMIT: Final = 4096
MAX_CODE_LENGTH: Final = 300  # as the route's CheckInBody
_JSON_TYPES: Final = frozenset((b"application/json", b"application/json; charset=utf-8"))
_LOCATION_KEYS: Final = frozenset(("latitude", "longitude", "accuracy"))
# As the route's JSONResponse, with what SecurityHeaders adds to every response.
_ANSWER_HEADERS: Final = (
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class MiniAppCheckInLane:
    """Answers plain Mini App check-ins itself; everything else goes to `web_app`."""

    def __init__(self, web_app: FastAPI) -> None:
        self.web_app = web_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != CHECKIN_PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
        ):
            await self.web_app(scope, receive, send)
            return
        length, plain_json, authorization = _request_headers(scope["headers"])
        if length is None or length > LANE_BODY_LIMIT or not plain_json:
            await self.web_app(scope, receive, send)
            return
        began = time.perf_counter()
        body = b""
        while True:
            try:
                message = await receive_within(receive, BODY_IDLE_SECONDS)  # as BodyLimit
            except TimeoutError:
                # The phone's connection stalled mid-upload: the rest of its body is not
                # waited for (the connection is closed); whatever it still hears, it tries
                # again.
                timeout = {"error": "timeout", "message": plain(t("miniapp.network"))}
                await _send(send, ApiAnswer(408, timeout, {"Connection": "close"}))
                _log_answer(408, began)
                return
            if message["type"] == "http.disconnect":
                _log_answer(0, began)  # gone before its request was whole: nothing done
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            fields = plain_check_in(body)
        except Exception:  # a shortcut only: what it cannot read, the route answers
            log.debug("the check-in lane handed on a body it could not read", exc_info=True)
            fields = None
        state = self.web_app.state
        application: AttnApplication = state.application
        services = application.bot_data.get(SERVICES_KEY)
        if fields is None or services is None:  # (no services yet: the route answers 503)
            await self.web_app(scope, _replay(body, receive), send)
            return
        code, location = fields
        try:
            answer = await check_in_answer(
                application, services, state.settings, authorization, code, location
            )
        except Exception:
            log.exception("the Mini App check-in failed")
            answer = ApiAnswer(500, {"error": "internal", "message": plain(t("error.unexpected"))})
        await _send(send, answer)
        _log_answer(answer.status, began)


def _log_answer(status: int, began: float) -> None:
    """The lane's answer in the request log, as RequestLog's line."""
    if log.isEnabledFor(logging.DEBUG) or status >= 500:
        log.log(
            logging.WARNING if status >= 500 else logging.DEBUG,
            "%d %s %s %.1fms",
            status,
            "POST",
            logged_path({"route": _LOGGED_ROUTE}),
            1000.0 * (time.perf_counter() - began),
        )


class _LoggedRoute:
    """What `bot.web.middleware.logged_path` reads of a matched route: its template."""

    path_format = CHECKIN_PATH


_LOGGED_ROUTE: Final = _LoggedRoute()


def plain_check_in(body: bytes) -> tuple[str, Location | None] | None:
    """(code, location) when `body` is exactly what the route's `CheckInBody` accepts in its
    plainest form (a string code, numbers in range); None for anything else, which the
    route's own validation then answers (a number as text, an extra field, NaN...)."""
    try:
        data = _DECODER.decode(body.decode())
    except (ValueError, UnicodeDecodeError, RecursionError, _NotPlain):
        # (RecursionError: a body nested a thousand deep; the route answers 400)
        return None
    if type(data) is not dict or not data.keys() <= {"code", "location"}:
        return None
    code = data.get("code")
    if type(code) is not str or not 1 <= len(code) <= MAX_CODE_LENGTH or not _unicode(code):
        return None
    place = data.get("location")
    if place is None:
        return code, None
    if type(place) is not dict or not place.keys() <= _LOCATION_KEYS:
        return None
    latitude, longitude = place.get("latitude"), place.get("longitude")
    accuracy = place.get("accuracy")
    if not (_number_within(latitude, 90) and _number_within(longitude, 180)):
        return None
    if accuracy is not None and not (_number(accuracy) and accuracy >= 0):
        return None
    assert isinstance(latitude, int | float) and isinstance(longitude, int | float)
    return code, Location(
        float(latitude), float(longitude), None if accuracy is None else float(accuracy)
    )


class _NotPlain(Exception):
    """NaN or Infinity in a body: the route's validation answers it (422)."""


def _refuse_constant(_name: str) -> None:
    raise _NotPlain


# Built once (json.loads and json.dumps build one per call when given options).
_DECODER: Final = json.JSONDecoder(parse_constant=_refuse_constant)
# As the route's JSONResponse renders (Starlette's options).
_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
)


def _unicode(text: str) -> bool:
    """False for a string with a lone surrogate (`"\\ud800"` in JSON), which the route's
    validation refuses (422) and no store can encode."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _number(value: object) -> bool:
    """A finite float, or an integer a float can hold (a larger one is the route's 422:
    `math.isfinite` of it raises OverflowError)."""
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is not int:
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _number_within(value: object, bound: float) -> bool:
    return _number(value) and -bound <= value <= bound  # type: ignore[operator]


def _request_headers(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bool, str | None]:
    """(Content-Length, whether Content-Type is plain JSON, Authorization) of a request;
    a header given twice, or a length that is not a number, counts as not plain."""
    length: int | None = None
    content_type: bytes | None = None
    authorization: str | None = None
    seen_length = seen_type = seen_auth = False
    for name, value in headers:
        if name == b"content-length":
            if seen_length or not value.isdigit():
                return None, False, None
            seen_length, length = True, int(value)
        elif name == b"content-type":
            if seen_type:
                return None, False, None
            seen_type, content_type = True, value.lower()
        elif name == b"authorization":
            if seen_auth:
                return None, False, None
            seen_auth, authorization = True, value.decode("latin-1")
    return length, content_type in _JSON_TYPES, authorization


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app the lane hands on to: the body already read, then the
    connection's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _send(send: Send, answer: ApiAnswer) -> None:
    """The answer as the route's JSONResponse would send it (same bytes, same headers)."""
    content = _ENCODER.encode(answer.body).encode("utf-8")
    headers = [
        (b"content-length", str(len(content)).encode()),
        *_ANSWER_HEADERS,
        *((name.lower().encode(), value.encode()) for name, value in answer.headers.items()),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
