"""A fake Telegram Bot API server for tests (standard library only), in modules: `model`
(limits, errors, calls), `formatting` (HTML parse mode), `uploads` (multipart, images), `http`
(the HTTP server) and `server` (`FakeBotApi`).

The real bot process (python-telegram-bot) talks to it over HTTP; point the bot at it with
``ApplicationBuilder().base_url(fake.bot_url).base_file_url(fake.file_url)`` (or
``telegram.Bot(token, base_url=fake.bot_url, base_file_url=fake.file_url)``).

The server runs in background threads (``ThreadingHTTPServer`` plus one webhook delivery
thread), so it can be used from synchronous tests and from asyncio tests alike.  In asyncio
tests where the bot runs in the *same* event loop, never call the blocking :meth:`wait_for`;
use :meth:`FakeBotApi.wait_for_async` instead.

Behaviour modelled on the real Bot API:

* requests: ``/bot<token>/<method>`` with GET query strings, ``application/x-www-form-urlencoded``,
  ``multipart/form-data`` (uploads) or ``application/json`` bodies.  Form values are JSON
  decoded except for parameters that are strings by definition (``text``, ``caption``, ...).
* responses: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
  "description": "..."}`` with the HTTP status equal to ``error_code`` (PTB relies on that).
* updates: one queue; served by long-polling ``getUpdates`` (offset confirmation semantics) or,
  while a webhook is set, POSTed to the webhook in order, retried on failure.
* per-chat message ids, edit/delete validation, "message is not modified", HTML parsing into
  entities with Telegram-like "can't parse entities" errors (the bot sends HTML only, so other
  parse modes are refused), inline keyboard validation, unknown chats ("chat not found"),
  blocked users (403).
* fault injection: random 429s (seeded), forced failures, flood-limit enforcement, latency.
"""

from tests.fakes.botapi.formatting import parse_formatted_text
from tests.fakes.botapi.model import (
    EDIT_METHODS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_LENGTH,
    RATE_LIMITED_METHODS,
    SEND_METHODS,
    ApiError,
    Call,
    FloodLimits,
    JSONDict,
    UploadedFile,
    WebhookConfig,
    WebhookDelivery,
)
from tests.fakes.botapi.server import FakeBotApi

__all__ = [
    "EDIT_METHODS",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_INLINE_BUTTONS",
    "MAX_TEXT_LENGTH",
    "RATE_LIMITED_METHODS",
    "SEND_METHODS",
    "ApiError",
    "Call",
    "FakeBotApi",
    "FloodLimits",
    "JSONDict",
    "UploadedFile",
    "WebhookConfig",
    "WebhookDelivery",
    "parse_formatted_text",
]
