"""An in-memory Bot API and ready-made `/checkin` updates (on tests/support/telegram.py, the
recorder and update builders the tests use).

Why: the bench measures the bot's own work per update, so the Bot API must answer instantly
and identically for the real handlers and the baseline handler. Answers are real JSON, so
python-telegram-bot still parses a `Message` for every reply, as it would in production.

Told to (`impose`), it also answers like Telegram over its flood limits: a message beyond
`per_second` in the last second overall, or beyond `per_chat_per_second` in one chat, is
refused with 429 and `retry_after`, the whole seconds until the window has room again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update
from telegram.request import RequestData

from tests.support.telegram import RecordingBotApi, message_update

BOT_ID = 424242
BOT_USERNAME = "attn_bench_bot"
TOKEN = f"{BOT_ID}:bench-token-not-real"
REPLY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class FloodLimit:
    """Telegram's flood limits as the in-memory Bot API imposes them (None: no such limit)."""

    per_second: int | None = 30
    per_chat_per_second: int | None = 1


# Methods that put or change a message in a chat: what Telegram's flood limits count.
LIMITED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")


class InMemoryBotApi(RecordingBotApi):
    """Answers every Bot API call in memory; counts calls by method, keeps nothing else
    (`track_chats`: also the messages each chat was sent)."""

    def __init__(self) -> None:
        super().__init__(keep_calls=False)
        self._message_ids = itertools.count(1)
        self._waiting: tuple[int, asyncio.Event] | None = None
        self._limit: FloodLimit | None = None
        self._taken: deque[float] = deque()  # monotonic times of messages taken, last second
        self._taken_by_chat: dict[int, deque[float]] = {}
        self.delivered: Counter[str] = Counter()  # calls answered ok, by method
        self.refused_429 = 0
        self.per_chat: Counter[int] | None = None
        self.last_message_at = 0.0  # perf_counter of the last message taken

    def impose(self, limit: FloodLimit | None) -> None:
        """Answer 429 over `limit` from now on (None: never)."""
        self._limit = limit
        self._taken.clear()
        self._taken_by_chat.clear()

    def track_chats(self, on: bool = True) -> None:
        """Count the messages taken per chat (`per_chat`), from zero."""
        self.per_chat = Counter() if on else None

    def answer(
        self, api_method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> tuple[int, bytes, str | None]:
        limited = api_method.startswith(LIMITED_PREFIXES)
        chat_id = int(params.get("chat_id", 0)) if limited else 0
        if limited and self._limit is not None:
            retry_after = self._retry_after(self._limit, chat_id)
            if retry_after is not None:
                self.refused_429 += 1
                description = f"Too Many Requests: retry after {retry_after}"
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": description,
                    "parameters": {"retry_after": retry_after},
                }
                return 429, json.dumps(body).encode(), description
        result = self._result(api_method, params)
        self.delivered[api_method] += 1
        if limited:
            self._take(chat_id)
        return 200, json.dumps({"ok": True, "result": result}).encode(), None

    def _retry_after(self, limit: FloodLimit, chat_id: int) -> int | None:
        """Whole seconds until a message to `chat_id` fits the limits (at least 1, as
        Telegram answers), or None when it fits now."""
        now = time.monotonic()
        free_at = now
        for window, most in (
            (self._taken, limit.per_second),
            (self._taken_by_chat.get(chat_id), limit.per_chat_per_second),
        ):
            if window is None or most is None:
                continue
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= most:
                free_at = max(free_at, window[len(window) - most] + 1.0)
        if free_at <= now:
            return None
        return max(1, math.ceil(free_at - now))

    def _take(self, chat_id: int) -> None:
        now = time.monotonic()
        self.last_message_at = time.perf_counter()
        if self.per_chat is not None:
            self.per_chat[chat_id] += 1
        if self._limit is None:
            return
        self._taken.append(now)
        chat = self._taken_by_chat.setdefault(chat_id, deque())
        chat.append(now)
        if len(self._taken_by_chat) > 10_000:
            self._taken_by_chat = {
                key: times
                for key, times in self._taken_by_chat.items()
                if times and times[-1] > now - 1.0
            }

    def recorded(self, api_method: str) -> None:
        if self._waiting is not None and self.messages_sent >= self._waiting[0]:
            self._waiting[1].set()

    def _result(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "ATTN bench",
                "username": BOT_USERNAME,
            }
        if api_method.startswith("send"):
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if api_method == "sendDocument":
                message["document"] = {"file_id": "doc", "file_unique_id": "doc"}
            return message
        if api_method == "getUpdates":
            return []
        return True

    @property
    def messages_sent(self) -> int:
        """Messages Telegram took (a refused one is not sent)."""
        return self.delivered["sendMessage"]

    async def wait_for_messages(self, total: int, within: float = REPLY_TIMEOUT_SECONDS) -> None:
        """Return once `total` messages were sent in all.

        Why: ATTN answers a recorded check-in from a background task, so an update is only
        done, for a throughput number, when its reply has gone out too.
        """
        if self.messages_sent >= total:
            return
        event = asyncio.Event()
        self._waiting = (total, event)
        try:
            async with asyncio.timeout(within):
                await event.wait()
        finally:
            self._waiting = None


def checkin_update(bot: Bot, user_id: int, code: str) -> Update:
    """The Update Telegram sends for `/checkin CODE` in the student's private chat."""
    data = message_update(
        user_id,
        f"/checkin {code}",
        first_name=f"Student{user_id % 100000}",
        last_name="Bench",
        username=f"s{user_id}",
    )
    return Update.de_json(data, bot)
