"""Telegram's webhook: an update is answered 200 only after its handlers have run.

Not when it is queued: Telegram keeps, and sends again, every update it got no 200 for, so an
update is not lost when the process stops or dies before handling it (a reply the handlers
send in the background may still be on its way). Telegram's `max_connections` (40 by
default) bounds how many updates arrive at once; python-telegram-bot's concurrency limit
applies as in polling mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from telegram import Update

from bot.context import SERVICES_KEY
from bot.metrics import WEBHOOK_FORBIDDEN, metrics_of
from bot.web.state import Webhook, WebState

if TYPE_CHECKING:
    from bot.context import AttnApplication

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_router(application: AttnApplication, webhook: Webhook, state: WebState) -> APIRouter:
    """The one POST route at the webhook's path (left out of the OpenAPI document)."""
    router = APIRouter()

    async def receive_update(request: Request) -> Response:
        if not webhook.secret_matches(request.headers.get(SECRET_HEADER)):
            metrics_of(application).error(WEBHOOK_FORBIDDEN)
            client = request.client.host if request.client else "?"
            log.warning("refused a webhook request from %s: wrong secret", client)
            return _text(403, "forbidden\n")
        if state.closing:
            # Telegram (or nginx, to another replica) sends it again.
            return _text(503, "shutting down\n", {"Retry-After": "5"})
        body = await request.body()  # outside the try: a body over the limit is a 413
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, application.bot)
        except Exception as exc:
            log.warning("webhook body is not a Telegram update: %s", type(exc).__name__)
            return _text(400, "bad update\n")
        if not await handle(application, state, update):
            return _text(500, "not handled\n")
        return _text(200, "ok\n")

    router.add_api_route(webhook.path, receive_update, methods=["POST"], include_in_schema=False)
    return router


async def handle(application: AttnApplication, state: WebState, update: Update) -> bool:
    """Handle one update as polling would; True once its handlers are done.

    Cut off (cancelled at shutdown) or failed outside the handlers (whose own errors the
    Application's error handler takes): the update gives up its claim, so Telegram's next
    delivery of it is handled rather than dropped as a duplicate (every handler copes with a
    partly done first attempt).
    """
    state.begin()
    coroutine = application.process_update(update)
    try:
        await application.update_processor.process_update(update, coroutine)
    except asyncio.CancelledError:
        await asyncio.shield(_release_claim(application, update))
        raise
    except Exception:
        log.exception("update %d failed; Telegram will deliver it again", update.update_id)
        await asyncio.shield(_release_claim(application, update))
        return False
    finally:
        coroutine.close()  # only does something when cancelled before it started
        state.end()
    return True


async def _release_claim(application: AttnApplication, update: Update) -> None:
    user = update.effective_user
    services = application.bot_data.get(SERVICES_KEY)
    if user is None or services is None:
        return
    with contextlib.suppress(Exception):  # best effort; the claim expires in 24 h anyway
        await asyncio.wait_for(services.users.release_update(user.id, update.update_id), 1)


def _text(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(body, status_code=status, headers=headers)
