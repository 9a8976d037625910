"""Drive the real `Application` in-process: built Updates in, recorded Bot API calls out."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import uuid
from collections.abc import Iterable, Sequence
from datetime import tzinfo
from html.parser import HTMLParser
from typing import Any, ClassVar

from telegram import Update
from telegram.ext import TypeHandler
from telegram.request import RequestData

from bot.app import build_application
from bot.container import Services
from bot.context import AttnApplication
from bot.replying import wait_for_replies
from bot.settings import Settings
from tests.fakes.botapi import FakeBotApi
from tests.support import catalog_check
from tests.support.telegram import RecordingBotApi, message_update

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


class RecordingRequest(RecordingBotApi):
    """A Bot API that answers in memory and remembers every call the bot made.

    Every call is answered by the fake Bot API server's own logic (`FakeBotApi`, driven
    in-process without HTTP): it refuses what Telegram refuses (too long, bad HTML, bad
    buttons, InputMedia without media, chats that never started the bot ...), so a bot test
    passes only if real Telegram would accept what the bot sends.
    """

    #: While a list (tests/bot: an autouse fixture), every user-visible text that did not
    #: come from the catalog is added to it (`tests.support.catalog_check`).
    catalog_violations: ClassVar[list[str] | None] = None

    def __init__(self, token: str = "123456:TEST") -> None:
        super().__init__()
        self.api = FakeBotApi(token=token, bot_username=BOT_USERNAME, bot_id=BOT_ID)
        self._token = token
        # Users who never started the bot: Telegram refuses to write to them privately.
        self.never_started = _NeverStarted(self.api)

    def answer(
        self, api_method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> tuple[int, bytes, str | None]:
        if RecordingRequest.catalog_violations is not None:
            RecordingRequest.catalog_violations.extend(catalog_check.violations(api_method, params))
        fields = dict(request_data.json_parameters) if request_data else {}
        files: dict[str, tuple[str, bytes, str]] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, *rest) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                mime = str(rest[0]) if rest else "application/octet-stream"
                files[name] = (str(filename), data, mime)
            params["_files"] = {name: (f[0], f[1]) for name, f in files.items()}
        if files:
            content_type, body = _multipart(fields, files)
        else:
            content_type = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(fields).encode()
        status, answer, _type = self.api._dispatch(
            "POST", f"/bot{self._token}/{api_method}", content_type, body
        )
        error = json.loads(answer).get("description") if status != 200 else None
        return status, answer, error

    def download(self, url: str) -> tuple[int, bytes]:
        """A file URL (`<base_file_url>/<file_path>`), served by the fake as Telegram does."""
        path = urllib.parse.urlsplit(url).path
        file_path = path.split("/file/bot", 1)[1].split("/", 1)[1]
        status, content, _type = self.api._dispatch(
            "GET", f"/file/bot{self._token}/{file_path}", "", b""
        )
        return status, content


class _NeverStarted:
    """Tests say "this user never opened the bot" (`update`) or "now they did" (`discard`);
    the fake then answers as Telegram does (403 "can't initiate conversation")."""

    def __init__(self, api: FakeBotApi) -> None:
        self._api = api

    def update(self, user_ids: Iterable[int]) -> None:
        for user_id in user_ids:
            with self._api._cond:
                self._api._chats.pop(user_id, None)
            self._api.register_user(user_id)

    def discard(self, user_id: int) -> None:
        self._api.register_chat(user_id)


def _multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[str, bytes]:
    """A multipart/form-data body as an HTTP client sends it (HTML5 filename escaping)."""
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, (filename, content, mime) in files.items():
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{quoted}"\r\nContent-Type: {mime}\r\n\r\n'
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


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


class BotHarness:
    """The real Application with real services, fed Updates by hand."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        rate_limiter: bool = False,
        *,
        main_web_app: bool = False,
    ) -> None:
        """`rate_limiter`: the production flood limiter (tests of pacing); off by default,
        so tests do not wait for Telegram's limits. `main_web_app`: what getMe says of a
        main Mini App in @BotFather (none by default, as for a new bot)."""
        self.request = RecordingRequest(settings.bot_token.get_secret_value())
        self.request.api.has_main_web_app = main_web_app
        self.services = services

        async def factory() -> Services:
            return services

        self.app: AttnApplication = build_application(
            settings, factory, request=self.request, rate_limiter=rate_limiter, schedule=False
        )
        # Whoever writes to the bot becomes known to the fake, as to Telegram: a private
        # message opens the private chat; a group message only makes the sender known.
        self.app.add_handler(TypeHandler(Update, self._meet), group=-1000)

    async def _meet(self, update: Update, context: object) -> None:
        api, chat, user = self.request.api, update.effective_chat, update.effective_user
        if chat is None:
            return
        if chat.type == "private":
            if chat.id not in api._chats:
                api.register_chat(chat.id, first_name=chat.first_name)
            return
        if chat.id not in api._chats:
            api.register_chat(chat.id, chat.type, title=chat.title)
        if user is not None and user.id not in api._users:
            api.register_user(user.id, user.first_name, user.last_name, user.username)

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
        update_id = self.request.api.send_message(user_id, text, **kwargs)
        update = Update.de_json(self.request.api.get_update(update_id), self.app.bot)
        await self.app.process_update(update)
        await wait_for_replies(self.app.bot_data)
        new = self.request.calls[before:]
        return [c.text for c in new if c.method in ("sendMessage", "sendPhoto") and c.status == 200]

    async def send_media(self, user_id: int, content: bytes, **kwargs: Any) -> list[str]:
        """A photo or a file from the user (see `FakeBotApi.send_media`); the texts (and
        captions) the bot sent in reply."""
        before = len(self.request.calls)
        update_id = self.request.api.send_media(user_id, content, **kwargs)
        update = Update.de_json(self.request.api.get_update(update_id), self.app.bot)
        await self.app.process_update(update)
        await wait_for_replies(self.app.bot_data)
        new = self.request.calls[before:]
        return [c.text for c in new if c.method in ("sendMessage", "sendPhoto") and c.status == 200]

    async def send_document(
        self,
        user_id: int,
        content: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
    ) -> list[str]:
        """A file sent to the bot in the private chat (stored by the fake, so the bot can
        fetch it with getFile and download it), with an optional caption; the texts the
        bot sent in reply."""
        before = len(self.request.calls)
        update_id = self.request.api.send_document(
            user_id, content, filename, mime_type, caption=caption
        )
        update = Update.de_json(self.request.api.get_update(update_id), self.app.bot)
        await self.app.process_update(update)
        await wait_for_replies(self.app.bot_data)
        new = self.request.calls[before:]
        return [c.text for c in new if c.method == "sendMessage" and c.status == 200]

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
        if user_id not in self.request.api._chats:  # they write to the bot: a private chat
            self.request.api.register_chat(user_id)
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await wait_for_replies(self.app.bot_data)
        return [c.text for c in self.request.calls[before:] if c.method == "sendMessage"]

    async def press(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Press an inline button (or forge one) carrying `data`, under the bot's message
        `message_id` in the presser's private chat or in `chat_id` (a group); a new message
        saying "buttons" by default."""
        api = self.request.api
        chat = user_id if chat_id is None else chat_id
        if chat < 0 and chat not in api._chats:
            api.register_chat(chat, "group", title="Group")
        message = api.ensure_bot_message(chat, message_id, "buttons")
        update_id = api.press_button(user_id, message["message_id"], chat, data, check_button=False)
        update = api.get_update(update_id)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await wait_for_replies(self.app.bot_data)

    async def send_many(self, messages: Sequence[tuple[int, str]]) -> None:
        await asyncio.gather(*(self.send(user, text) for user, text in messages))
