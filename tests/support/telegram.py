"""Telegram on our side of the wire, shared by tests and bench: the updates Telegram sends, and
a Bot API (`BaseRequest`) that records every call the bot makes.

Why one module: the bench and every test feed the same updates and read the same record, so a
change in what Telegram sends (or in what we record) is made once.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

SEND_METHODS = ("sendMessage", "sendDocument", "sendPhoto")
TEXT_METHODS = ("sendMessage", "sendPhoto")

# Far above the ids the fake Bot API server counts from 1, so a built update never repeats the
# update_id of one the fake made for the same user (the bot drops a repeated update).
_ids = itertools.count(1_000_000)


def next_id() -> int:
    """A fresh update or message id (unique in this process)."""
    return next(_ids)


def user_json(
    user_id: int,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
    *,
    is_bot: bool = False,
) -> dict[str, Any]:
    """A Telegram `User` as it appears in an update."""
    return {
        "id": user_id,
        "is_bot": is_bot,
        "first_name": first_name or f"User{user_id}",
        **({"last_name": last_name} if last_name else {}),
        **({"username": username} if username else {}),
    }


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram adds to a text that starts with a command."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def message_update(
    user_id: int,
    text: str,
    chat_id: int | None = None,
    chat_type: str = "private",
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
    *,
    update_id: int | None = None,
) -> dict[str, Any]:
    """The JSON Telegram sends for a text message, with a bot_command entity when it is one."""
    message: dict[str, Any] = {
        "message_id": next_id(),
        "date": int(time.time()),
        "chat": {"id": chat_id if chat_id is not None else user_id, "type": chat_type},
        "from": user_json(user_id, first_name, last_name, username),
        "text": text,
    }
    entities = command_entities(text)
    if entities:
        message["entities"] = entities
    return {"update_id": update_id if update_id is not None else next_id(), "message": message}


def member_update(
    user_id: int, bot_id: int, old: str, new: str, chat_type: str = "private"
) -> dict[str, Any]:
    """What Telegram sends when a user blocks (`kicked`) or unblocks (`member`) the bot."""
    bot_user = {"id": bot_id, "is_bot": True, "first_name": "ATTN"}
    user = {"id": user_id, "is_bot": False, "first_name": "Ann"}
    chat_id = user_id if chat_type == "private" else -100_123
    return {
        "update_id": next_id(),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Ann", "title": "G"},
            "from": user,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user, "until_date": 0},
            "new_chat_member": {"status": new, "user": bot_user, "until_date": 0},
        },
    }


@dataclass
class ApiCall:
    """One Bot API call the bot made, and how it was answered."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    #: The HTTP status the Bot API answered, and its error description if it refused.
    status: int = 200
    error: str | None = None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


class RecordingBotApi(BaseRequest):
    """A Bot API in memory: `answer` replies to each call; every call is counted by method,
    and kept (with its parameters and answer) unless `keep_calls` is False (the bench, whose
    millions of calls must not fill memory)."""

    def __init__(self, *, keep_calls: bool = True) -> None:
        self.calls: list[ApiCall] = []
        self.counts: Counter[str] = Counter()
        self._keep_calls = keep_calls

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file download (File.download_*), not a Bot API method
            status, content = self.download(url)
            self.counts["download"] += 1
            if self._keep_calls:
                self.calls.append(ApiCall("download", {"url": url}, status=status))
            self.recorded("download")
            return status, content
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        status, body, error = self.answer(api_method, params, request_data)
        self.counts[api_method] += 1
        if self._keep_calls:
            self.calls.append(ApiCall(api_method, params, status=status, error=error))
        self.recorded(api_method)
        return status, body

    def answer(
        self, api_method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> tuple[int, bytes, str | None]:
        """(HTTP status, JSON body, error description) for one call; `params` may be amended
        (files are added under "_files") and is what gets recorded."""
        raise NotImplementedError

    def download(self, url: str) -> tuple[int, bytes]:
        """(HTTP status, content) of a file URL the bot downloads; none by default."""
        return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'

    def recorded(self, api_method: str) -> None:
        """Called after each call is recorded (to wake a waiter)."""

    @property
    def refused(self) -> list[ApiCall]:
        """Calls the Bot API refused."""
        return [c for c in self.calls if c.status != 200]

    def sent(self, chat_id: int | None = None) -> list[ApiCall]:
        """Messages, photos and documents the bot sent (optionally to one chat)."""
        return [
            c
            for c in self.calls
            if c.method in SEND_METHODS
            and c.status == 200
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def files(self, chat_id: int | None = None) -> list[tuple[str, bytes]]:
        """(filename, content) of every file the bot sent, oldest first."""
        return [file for c in self.sent(chat_id) for file in c.params.get("_files", {}).values()]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.text for c in self.sent(chat_id) if c.method in TEXT_METHODS]
