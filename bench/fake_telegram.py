"""An in-memory Bot API and ready-made `/checkin` updates (on tests/support/telegram.py, the
recorder and update builders the tests use).

Why: the bench measures the bot's own work per update, so the Bot API must answer instantly
and identically for the real handlers and the baseline handler. Answers are real JSON, so
python-telegram-bot still parses a `Message` for every reply, as it would in production.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from telegram import Bot, Update
from telegram.request import RequestData

from tests.support.telegram import RecordingBotApi, message_update

BOT_ID = 424242
BOT_USERNAME = "attn_bench_bot"
TOKEN = f"{BOT_ID}:bench-token-not-real"
REPLY_TIMEOUT_SECONDS = 60.0


class InMemoryBotApi(RecordingBotApi):
    """Answers every Bot API call in memory; counts calls by method, keeps nothing else."""

    def __init__(self) -> None:
        super().__init__(keep_calls=False)
        self._message_ids = itertools.count(1)
        self._waiting: tuple[int, asyncio.Event] | None = None

    def answer(
        self, api_method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> tuple[int, bytes, str | None]:
        result = self._result(api_method, params)
        return 200, json.dumps({"ok": True, "result": result}).encode(), None

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
        return self.counts["sendMessage"]

    async def wait_for_messages(self, total: int) -> None:
        """Return once `total` messages were sent in all.

        Why: ATTN answers a recorded check-in from a background task, so an update is only
        done, for a throughput number, when its reply has gone out too.
        """
        if self.messages_sent >= total:
            return
        event = asyncio.Event()
        self._waiting = (total, event)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
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
