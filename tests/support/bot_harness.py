"""Drive the real `Application` in-process: built Updates in, recorded Bot API calls out."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from html.parser import HTMLParser
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import AnyApplication, build_application
from bot.bootstrap import Services
from bot.handlers.common import wait_for_replies
from bot.settings import Settings

BOT_ID = 123456
BOT_USERNAME = "attn_test_bot"
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


class RecordingRequest(BaseRequest):
    """A Bot API that answers in memory and remembers every call the bot made."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._message_ids = itertools.count(1000)
        # Users who never started the bot: Telegram refuses to write to them privately.
        self.never_started: set[int] = set()

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
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            files = {}
            for name, (filename, content, *_rest) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                files[name] = (filename, data)
            params["_files"] = files
        self.calls.append(ApiCall(api_method, params))
        chat = params.get("chat_id")
        if api_method.startswith("send") and chat is not None and int(chat) in self.never_started:
            refusal = {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot can't initiate conversation with a user",
            }
            return 403, json.dumps(refusal).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "ATTN",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
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

    def sent(self, chat_id: int | None = None) -> list[ApiCall]:
        """Messages and documents the bot sent (optionally to one chat)."""
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "sendDocument", "sendPhoto")
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def files(self, chat_id: int | None = None) -> list[tuple[str, bytes]]:
        """(filename, content) of every file the bot sent, oldest first."""
        return [file for c in self.sent(chat_id) for file in c.params.get("_files", {}).values()]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.text for c in self.sent(chat_id) if c.method in ("sendMessage", "sendPhoto")]


class _HtmlChecker(HTMLParser):
    """Accepts only what Telegram's HTML parse mode accepts: known tags, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def assert_valid_telegram_html(text: str) -> None:
    """Fail when Telegram would reject `text` with parse_mode=HTML."""
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    bare = text.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "").replace("&quot;", "")
    assert "<" not in _strip_tags(bare) and not checker.errors and not checker.stack, (
        text,
        checker.errors,
    )
    assert 0 < len(text) <= 4096


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"</?[a-z-]+(\s[^<>]*)?>", "", text)


_update_ids = itertools.count(1)


def message_update(
    user_id: int,
    text: str,
    chat_id: int | None = None,
    chat_type: str = "private",
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """The JSON Telegram sends for a text message, with a bot_command entity when it is one."""
    chat = chat_id if chat_id is not None else user_id
    message: dict[str, Any] = {
        "message_id": next(_update_ids),
        "date": int(time.time()),
        "chat": {"id": chat, "type": chat_type},
        "from": {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
            **({"last_name": last_name} if last_name else {}),
            **({"username": username} if username else {}),
        },
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        ]
    return {"update_id": next(_update_ids), "message": message}


class BotHarness:
    """The real Application with real services, fed Updates by hand."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.request = RecordingRequest()
        self.services = services

        async def factory() -> Services:
            return services

        self.app: AnyApplication = build_application(
            settings, factory, request=self.request, rate_limiter=False, schedule=False
        )

    async def __aenter__(self) -> BotHarness:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.app.bot_data.pop("services", None)  # the fixture owns and closes the services
        await self.app.shutdown()

    @property
    def services_tz(self) -> tzinfo:
        defaults = self.app.bot.defaults
        assert defaults is not None and defaults.tzinfo is not None
        return defaults.tzinfo

    async def send(self, user_id: int, text: str, **kwargs: Any) -> list[str]:
        """Process one message; return the texts the bot sent in reply."""
        before = len(self.request.calls)
        update = Update.de_json(message_update(user_id, text, **kwargs), self.app.bot)
        await self.app.process_update(update)
        await wait_for_replies(self.app.bot_data)
        new = self.request.calls[before:]
        return [c.text for c in new if c.method in ("sendMessage", "sendPhoto")]

    async def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        forwarded: bool = False,
        date: int | None = None,
    ) -> list[str]:
        """A location message (optionally forwarded from someone, or dated in the past)."""
        update = message_update(user_id, "")
        message = update["message"]
        del message["text"]
        message["location"] = {"latitude": latitude, "longitude": longitude}
        if date is not None:
            message["date"] = date
        if forwarded:
            message["forward_origin"] = {
                "type": "user",
                "date": message["date"] - 3600,
                "sender_user": {"id": 777, "is_bot": False, "first_name": "Friend"},
            }
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await wait_for_replies(self.app.bot_data)
        return [c.text for c in self.request.calls[before:] if c.method == "sendMessage"]

    async def press(
        self, user_id: int, data: str, message_id: int = 1, chat_id: int | None = None
    ) -> None:
        """Press an inline button (or forge one) carrying `data`, under a message in the
        presser's private chat or in `chat_id` (a group)."""
        chat = {"id": user_id, "type": "private"} if chat_id is None else None
        if chat is None:
            chat = {"id": chat_id, "type": "group" if chat_id and chat_id < 0 else "private"}
        update = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": str(next(_update_ids)),
                "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "ATTN"},
                    "text": "buttons",
                },
            },
        }
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await wait_for_replies(self.app.bot_data)

    async def send_many(self, messages: Sequence[tuple[int, str]]) -> None:
        await asyncio.gather(*(self.send(user, text) for user, text in messages))
