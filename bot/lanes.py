"""Which messages are replies and which are broadcasts: the two lanes of the flood limiter.

Telegram's ~30 messages a second is the limit for *bulk notifications*; a reply to a user's
own message is not one (and when Telegram does throttle, it answers 429 with `retry_after`).
So the flood limiter (bot/flood.py) sends replies at once, and paces at the broadcast rate
only what the bot sends on its own initiative: summaries, nudges, reminders, digests, card
edits, alerts.

How a send is classified, so that it cannot be got wrong by forgetting an argument:

* `AnsweringApplication.process_update` marks the update's task (a context variable, which
  every task the update starts inherits: its background replies too) with the chats that
  wrote: the update's chat and its sender's private chat. It is unset again when the update
  is done, so nothing that runs later in the same task inherits it.
* A message counts as a reply only when it goes to one of those chats, within
  `REPLY_WINDOW_SECONDS` of the update. Anything else sent while handling an update (a
  notice to a teacher about a student's request, a message to other students) is a
  broadcast, and so is every message of a job: `broadcast_job` clears the mark, in case a
  job was scheduled from an update's task (APScheduler's timers inherit the context that
  set them).

Nothing is a reply by default: a send the rules do not recognise is paced, never unpaced.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from telegram import Update
from telegram.ext import Application

Lane = Literal["reply", "broadcast"]

# A send this long after the update it answers is no longer a reply: a task an update
# started that keeps running (a timer, a retry loop) must not send unpaced forever.
REPLY_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Answering:
    """The chats an update came from, and until when a message to them is its reply."""

    chats: frozenset[int]
    until: float  # time.monotonic()


_ANSWERING: ContextVar[Answering | None] = ContextVar("attn_answering", default=None)


def chats_of(update: object) -> frozenset[int]:
    """The chats a reply to `update` may go to: where it was written, and its sender's
    private chat (a command in a group is answered there, see bot/private.py)."""
    if not isinstance(update, Update):
        return frozenset()
    chats: set[int] = set()
    if update.effective_chat is not None:
        chats.add(update.effective_chat.id)
    if update.effective_user is not None:
        chats.add(update.effective_user.id)
    return frozenset(chats)


def lane_of(chat_id: int | str | None) -> Lane:
    """The lane of a message to `chat_id` sent from the current task, now."""
    answering = _ANSWERING.get()
    if (
        answering is None
        or not isinstance(chat_id, int)
        or chat_id not in answering.chats
        or time.monotonic() > answering.until
    ):
        return "broadcast"
    return "reply"


@contextmanager
def answering(chats: Iterable[int]) -> Iterator[None]:
    """Within: messages to `chats` (for `REPLY_WINDOW_SECONDS`) are replies, in this task and
    in every task started from it."""
    token = _ANSWERING.set(Answering(frozenset(chats), time.monotonic() + REPLY_WINDOW_SECONDS))
    try:
        yield
    finally:
        _ANSWERING.reset(token)


class AnsweringApplication(Application[Any, Any, Any, Any, Any, Any]):
    """The Application whose updates mark their replies (`lane_of`): webhook, polling, tests
    and the bench all go through `process_update`."""

    async def process_update(self, update: object) -> None:
        # `answering`, spelled out: it runs for every update.
        marked = Answering(chats_of(update), time.monotonic() + REPLY_WINDOW_SECONDS)
        token = _ANSWERING.set(marked)
        try:
            await super().process_update(update)
        finally:
            _ANSWERING.reset(token)


JobCallback = TypeVar("JobCallback", bound=Callable[..., Awaitable[Any]])


def broadcast_job(callback: JobCallback) -> JobCallback:
    """A job callback whose every message is a broadcast, whatever task scheduled it."""

    @functools.wraps(callback)
    async def in_broadcast_lane(*args: Any, **kwargs: Any) -> Any:
        token = _ANSWERING.set(None)
        try:
            return await callback(*args, **kwargs)
        finally:
            _ANSWERING.reset(token)

    in_broadcast_lane.lane = "broadcast"  # type: ignore[attr-defined]  # tests read it
    return in_broadcast_lane  # type: ignore[return-value]
