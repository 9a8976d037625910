"""`FakeBotApi`: the fake Bot API's state and methods."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping
from types import TracebackType
from typing import Any

from tests.fakes.botapi.formatting import parse_formatted_text
from tests.fakes.botapi.http import _Server
from tests.fakes.botapi.model import (
    _BOT_COMMAND_NAME_RE,
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _INLINE_BUTTON_ACTIONS,
    _MEDIA_NOT_FOUND,
    _NOT_DEFAULT_UPDATE_TYPES,
    _NOT_MODIFIED,
    _QUERY_TOO_OLD,
    _SECRET_TOKEN_RE,
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
    _bad,
    _CallbackQuery,
    _Chat,
    _decode_form_value,
    _ForcedFailure,
    _norm_chat_id,
    _RandomFaults,
    _StoredFile,
    _too_many,
    _update_type,
    _utf16_len,
)
from tests.fakes.botapi.uploads import _image_size, _parse_multipart

_Method = Callable[[JSONDict, dict[str, UploadedFile]], Any]


class FakeBotApi:
    """In-process fake of the Telegram Bot API server (see module docstring)."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "attn_test_bot",
        bot_id: int = 123456,
        *,
        bot_first_name: str = "ATTN Test Bot",
        strict_chats: bool = True,
        require_https_webhook: bool = False,
        webhook_retry_interval: float = 0.1,
        webhook_timeout: float = 10.0,
        first_update_id: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        #: If true, sending to a chat that never appeared in an injected update (and was not
        #: :meth:`register_chat`-ed) fails with 400 "chat not found", like Telegram.
        self.strict_chats = strict_chats
        self.require_https_webhook = require_https_webhook
        self.webhook_retry_interval = webhook_retry_interval
        self.webhook_timeout = webhook_timeout
        self._host = host
        self._port = port

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._server_errors: list[str] = []
        self._pending: list[JSONDict] = []
        self._dropped_updates: list[JSONDict] = []
        self._all_updates: dict[int, JSONDict] = {}
        self._next_update_id = first_update_id
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: WebhookConfig | None = None
        self._deliveries: list[WebhookDelivery] = []
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSONDict] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = 0
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._callback_counter = 0
        self._commands: dict[str, list[JSONDict]] = {}
        self._random_faults: _RandomFaults | None = None
        self._forced: list[_ForcedFailure] = []
        self._flood: FloodLimits | None = None
        self._latency: float = 0.0
        self._latency_methods: frozenset[str] | None = None
        self._stopping = False
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._delivery_thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._started_at = time.monotonic()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._methods: dict[str, tuple[str, _Method]] = {}
        for name, fn in self._method_table().items():
            self._methods[name.lower()] = (name, fn)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotApi:
        if self._server is not None:
            return self
        self._stopping = False
        self._server = _Server((self._host, self._port), self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeBotApi-http",
            daemon=True,
        )
        self._serve_thread.start()
        self._delivery_thread = threading.Thread(
            target=self._delivery_loop, name="FakeBotApi-webhook", daemon=True
        )
        self._delivery_thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        for thread in (self._serve_thread, self._delivery_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._server = None
        self._serve_thread = None
        self._delivery_thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (only valid after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        host, port = self._server.server_address[:2]
        host_s = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_s}:{port}"

    @property
    def bot_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- user side: inject updates

    def add_raw_update(self, update: Mapping[str, Any]) -> int:
        """Queue an arbitrary update (``update_id`` is assigned unless given). Returns its id."""
        body = copy.deepcopy(dict(update))
        with self._cond:
            uid = body.pop("update_id", None)
            if not isinstance(uid, int):
                uid = self._next_update_id
            self._next_update_id = max(self._next_update_id, uid + 1)
            payload = body.get(_update_type(body))
            if isinstance(payload, dict):
                inner = payload.get("message") or {}
                for candidate in (payload.get("chat"), inner.get("chat")):
                    if (
                        isinstance(candidate, dict)
                        and isinstance(candidate.get("id"), int)
                        and candidate["id"] not in self._chats
                    ):
                        self._chats[candidate["id"]] = _Chat(chat=copy.deepcopy(candidate))
            full = {"update_id": uid, **body}
            self._pending.append(full)
            self._all_updates[uid] = full
            self._cond.notify_all()
            return uid

    def send_message(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        *,
        language_code: str | None = "en",
        chat_title: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user sends ``text``. ``bot_command`` entities are computed for ``/cmd`` and
        ``/cmd@botname`` tokens unless ``entities`` is given. Returns the update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, last_name, username, language_code)
            chat = self._chat_for_user(user, chat_id, chat_type, chat_title)
            msg = self._user_message(chat, user)
            msg["text"] = text
            ents = entities if entities is not None else self._command_entities(text)
            if ents:
                msg["entities"] = copy.deepcopy(ents)
            self._attach_reply(chat, msg, reply_to_message_id)
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def press_button(
        self,
        user_id: int,
        message_id: int,
        chat_id: int,
        data: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
        check_button: bool = True,
    ) -> int:
        """A user presses an inline button with ``callback_data == data`` under the bot message
        ``message_id`` in ``chat_id``. Returns the update_id (see :meth:`callback_answer`)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ValueError(f"unknown chat {chat_id}")
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(
                    f"no message {message_id} in chat {chat_id}; known: {sorted(chat.messages)}"
                )
            if check_button:
                available = [
                    b.get("callback_data")
                    for row in (msg.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ]
                if data not in available:
                    raise ValueError(
                        f"message {message_id} in chat {chat_id} has no button with callback_data"
                        f" {data!r}; available: {available}"
                    )
            user = self._remember_user(user_id, first_name, None, username, None)
            self._callback_counter += 1
            cq_id = str(4_000_000_000_000_000 + self._callback_counter)
            update = {
                "callback_query": {
                    "id": cq_id,
                    "from": user,
                    "message": copy.deepcopy(msg),
                    "chat_instance": str(abs(chat_id) * 7919 + 1),
                    "data": data,
                }
            }
            uid = self.add_raw_update(update)
            self._callback_queries[cq_id] = _CallbackQuery(id=cq_id, update_id=uid)
            return uid

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        live_period: int | None = None,
        horizontal_accuracy: float | None = None,
        heading: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user shares a (live, if ``live_period``) location. Returns the update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, None, username, None)
            chat = self._chat_for_user(user, chat_id, chat_type, None)
            msg = self._user_message(chat, user)
            location: JSONDict = {"latitude": latitude, "longitude": longitude}
            for key, value in (
                ("horizontal_accuracy", horizontal_accuracy),
                ("live_period", live_period),
                ("heading", heading),
            ):
                if value is not None:
                    location[key] = value
            msg["location"] = location
            self._attach_reply(chat, msg, reply_to_message_id)
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def update_live_location(
        self,
        user_id: int,
        message_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        *,
        horizontal_accuracy: float | None = None,
        heading: int | None = None,
    ) -> int:
        """Live-location update (``edited_message``) for a location sent with ``live_period``."""
        with self._cond:
            chat = self._chats.get(chat_id if chat_id is not None else user_id)
            msg = chat.messages.get(message_id) if chat else None
            if chat is None or msg is None or "location" not in msg:
                raise ValueError(f"no location message {message_id} in chat {chat_id or user_id}")
            msg["location"].update({"latitude": latitude, "longitude": longitude})
            if horizontal_accuracy is not None:
                msg["location"]["horizontal_accuracy"] = horizontal_accuracy
            if heading is not None:
                msg["location"]["heading"] = heading
            msg["edit_date"] = int(time.time())
            return self.add_raw_update({"edited_message": copy.deepcopy(msg)})

    def send_document(
        self,
        user_id: int,
        content: bytes,
        filename: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> int:
        """A user uploads a document (downloadable by the bot via getFile). Returns update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, None, username, None)
            chat = self._chat_for_user(user, chat_id, chat_type, None)
            msg = self._user_message(chat, user)
            mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
            msg["document"] = self._store_document(content, filename, mime).obj
            if caption is not None:
                msg["caption"] = caption
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def block_bot(self, user_id: int, blocked: bool = True, *, inject_update: bool = True) -> int:
        """The user blocks (or unblocks) the bot: sends to them fail with 403 afterwards.
        Injects a ``my_chat_member`` update unless ``inject_update`` is false (returns -1)."""
        with self._cond:
            user = self._remember_user(user_id, None, None, None, None)
            chat = self._chat_for_user(user, None, "private", None)
            chat.blocked = blocked
            if not inject_update:
                return -1
            member = {"status": "member", "user": self.bot_user}
            kicked = {"status": "kicked", "user": self.bot_user, "until_date": 0}
            return self.add_raw_update(
                {
                    "my_chat_member": {
                        "chat": copy.deepcopy(chat.chat),
                        "from": user,
                        "date": int(time.time()),
                        "old_chat_member": member if blocked else kicked,
                        "new_chat_member": kicked if blocked else member,
                    }
                }
            )

    def register_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSONDict:
        """Make a chat known to the fake (as if the user had started the bot)."""
        with self._cond:
            if chat_type == "private":
                user = self._remember_user(chat_id, first_name, last_name, username, None)
                chat = self._chat_for_user(user, chat_id, "private", None)
            else:
                chat = self._chats.get(chat_id) or _Chat(
                    chat={"id": chat_id, "type": chat_type, "title": title or "Test Group"}
                )
                if username:
                    chat.chat["username"] = username
                self._chats[chat_id] = chat
            chat.bot_is_admin = bot_is_admin
            return copy.deepcopy(chat.chat)

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Make a user known to the fake *without* a private chat (seen in a group, say).

        Like Telegram, sending to them then fails with 403 "bot can't initiate conversation
        with a user" until they write to the bot privately.
        """
        with self._cond:
            return self._remember_user(user_id, first_name, last_name, username, None)

    def file_content(self, file_id: str) -> bytes | None:
        """The bytes the bot uploaded for `file_id` (None for a URL the fake never fetched)."""
        with self._lock:
            stored = self._files.get(file_id)
            return None if stored is None else stored.content

    def ensure_bot_message(self, chat_id: int, message_id: int | None, text: str) -> JSONDict:
        """The bot's message `message_id` in `chat_id`, created with `text` if missing, or a
        new one if `message_id` is None (for tests that press buttons on a message they did
        not have the bot send)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                self.register_chat(chat_id)
                chat = self._chats[chat_id]
            if message_id is None:
                message_id = chat.new_message_id()
            msg = chat.messages.get(message_id)
            if msg is None:
                msg = {
                    "message_id": message_id,
                    "from": self.bot_user,
                    "chat": copy.deepcopy(chat.chat),
                    "date": int(time.time()),
                    "text": text,
                }
                chat.messages[message_id] = msg
                chat.next_message_id = max(chat.next_message_id, message_id + 1)
            return copy.deepcopy(msg)

    # ---------------------------------------------------------------- inspection

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded Bot API calls (including failed / injected-failure ones)."""
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str, *, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method and (c.ok or not ok_only)]

    def messages_to(self, chat_id: int | str) -> list[Call]:
        """Successful sendMessage/sendDocument/sendPhoto calls to ``chat_id`` in order."""
        target = _norm_chat_id(chat_id)
        with self._lock:
            return [
                c for c in self._calls if c.method in SEND_METHODS and c.ok and c.chat_id == target
            ]

    def texts_to(self, chat_id: int | str) -> list[str]:
        """Text (or caption) of each message in :meth:`messages_to`, as sent (unparsed)."""
        return [c.text or "" for c in self.messages_to(chat_id)]

    def last_message_to(self, chat_id: int | str) -> Call:
        msgs = self.messages_to(chat_id)
        if not msgs:
            raise AssertionError(f"no message was sent to {chat_id}\n{self.dump()}")
        return msgs[-1]

    def chat_messages(self, chat_id: int) -> list[JSONDict]:
        """Current state (after edits/deletions) of all messages in a chat, by message_id."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [copy.deepcopy(chat.messages[k]) for k in sorted(chat.messages)]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            msg = chat.messages.get(message_id) if chat else None
            return copy.deepcopy(msg) if msg is not None else None

    def find_button(self, chat_id: int, message_id: int, text: str) -> str:
        """callback_data of the inline button labelled ``text`` (exact, else unique substring)."""
        msg = self.message(chat_id, message_id)
        if msg is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        buttons = [
            b for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
        ]
        exact = [b for b in buttons if b.get("text") == text]
        partial = [b for b in buttons if text in str(b.get("text"))]
        found = exact or (partial if len(partial) == 1 else [])
        if not found or "callback_data" not in found[0]:
            labels = [b.get("text") for b in buttons]
            raise ValueError(f"no callback button {text!r} on message {message_id}: {labels}")
        return str(found[0]["callback_data"])

    def get_update(self, update_id: int) -> JSONDict:
        with self._lock:
            return copy.deepcopy(self._all_updates[update_id])

    def callback_answer(self, update_id: int) -> Call | None:
        """The successful answerCallbackQuery call for the callback query of ``update_id``."""
        with self._lock:
            cq_id = self._all_updates[update_id]["callback_query"]["id"]
            for c in self._calls:
                if (
                    c.method == "answerCallbackQuery"
                    and c.ok
                    and str(c.params.get("callback_query_id")) == cq_id
                ):
                    return c
        return None

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed (polling) / delivered (webhook)."""
        with self._lock:
            return copy.deepcopy(self._pending)

    @property
    def webhook(self) -> WebhookConfig | None:
        with self._lock:
            return copy.deepcopy(self._webhook)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def server_errors(self) -> list[str]:
        """Internal errors of the fake itself (should stay empty; assert it in teardown)."""
        with self._lock:
            return list(self._server_errors)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def dump(self, last: int = 40) -> str:
        with self._lock:
            lines = [f"FakeBotApi at {self._server and self.url} - last {last} calls:"]
            for c in self._calls[-last:]:
                params = json.dumps(c.params, ensure_ascii=False, default=str)
                if len(params) > 300:
                    params = params[:300] + "..."
                extra = f" files={ {k: len(v) for k, v in c.files.items()} }" if c.files else ""
                err = f" error={c.error!r}" if c.error else ""
                lines.append(
                    f"  +{c.at - self._started_at:8.3f}s {c.method} -> {c.status}{err}"
                    f" chat={c.chat_id} params={params}{extra}"
                )
            lines.append(f"pending updates: {[u['update_id'] for u in self._pending]}")
            if self._webhook is not None:
                lines.append(
                    f"webhook: {self._webhook.url} last_error={self._webhook.last_error_message}"
                )
            lines.extend(f"webhook delivery: {d}" for d in self._deliveries[-5:])
            lines.extend(f"SERVER ERROR: {e}" for e in self._server_errors)
            return "\n".join(lines)

    def wait_for(
        self, predicate: Callable[[FakeBotApi], bool], timeout: float = 5.0, message: str = ""
    ) -> None:
        """Block until ``predicate(self)`` is true. Do NOT use from a coroutine running in the
        bot's event loop (it would block the bot) - use :meth:`wait_for_async` there."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {message or predicate}\n{self.dump()}"
                )
            with self._cond:
                self._cond.wait(min(remaining, 0.05))

    async def wait_for_async(
        self,
        predicate: Callable[[FakeBotApi], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for
        message: str = "",
    ) -> None:
        """Async variant of :meth:`wait_for` (polls every 10 ms, yields to the event loop)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {message or predicate}\n{self.dump()}"
                )
            await asyncio.sleep(0.01)

    def wait_for_messages(
        self, chat_id: int | str, count: int = 1, timeout: float = 5.0
    ) -> list[Call]:
        """Block until at least ``count`` messages were sent to ``chat_id``; returns them all."""
        self.wait_for(
            lambda f: len(f.messages_to(chat_id)) >= count,
            timeout,
            f"{count} message(s) to chat {chat_id}",
        )
        return self.messages_to(chat_id)

    async def wait_for_messages_async(
        self,
        chat_id: int | str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for_messages
    ) -> list[Call]:
        await self.wait_for_async(
            lambda f: len(f.messages_to(chat_id)) >= count,
            timeout,
            f"{count} message(s) to chat {chat_id}",
        )
        return self.messages_to(chat_id)

    # ---------------------------------------------------------------- flood measurement

    def _accepted_times(
        self, methods: Collection[str], chat_id: int | str | None = None
    ) -> dict[int | str | None, list[float]]:
        grouped: dict[int | str | None, list[float]] = {}
        with self._lock:
            for c in self._calls:
                if (
                    c.ok
                    and c.method in methods
                    and (chat_id is None or c.chat_id == _norm_chat_id(chat_id))
                ):
                    grouped.setdefault(c.chat_id, []).append(c.at)
        return grouped

    @staticmethod
    def _max_in_window(times: list[float], window: float) -> int:
        times = sorted(times)
        best = 0
        lo = 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def max_messages_in_any_second(
        self, *, window: float = 1.0, methods: Collection[str] = SEND_METHODS
    ) -> int:
        """Max number of accepted (HTTP 200) sending calls, all chats together, whose arrival
        times fall within any window of ``window`` seconds."""
        grouped = self._accepted_times(methods)
        return self._max_in_window([t for ts in grouped.values() for t in ts], window)

    def max_messages_per_chat_in_any_second(
        self,
        chat_id: int | str | None = None,
        *,
        window: float = 1.0,
        methods: Collection[str] = SEND_METHODS,
    ) -> int:
        """Like :meth:`max_messages_in_any_second` but per chat; maximum over all chats unless
        ``chat_id`` is given. Use ``window=60`` for the 20-messages/minute group rule."""
        grouped = self._accepted_times(methods, chat_id)
        return max((self._max_in_window(ts, window) for ts in grouped.values()), default=0)

    # ---------------------------------------------------------------- fault injection

    def inject_429(
        self,
        fraction: float,
        *,
        retry_after: float = 1,
        seed: int = 0,
        methods: Collection[str] = RATE_LIMITED_METHODS,
        max_failures: int | None = None,
    ) -> None:
        """Answer ``fraction`` of calls of ``methods`` with 429 (seeded RNG; deterministic for
        a deterministic call order). ``retry_after`` may be fractional to keep tests fast
        (real Telegram always sends an integer). ``fraction=0`` disables."""
        with self._lock:
            self._random_faults = (
                _RandomFaults(
                    fraction=fraction,
                    retry_after=retry_after,
                    methods=frozenset(methods),
                    rng=random.Random(seed),
                    max_failures=max_failures,
                )
                if fraction > 0
                else None
            )

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str = "Bad Request: injected failure",
        parameters: JSONDict | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only to ``chat_id``) with
        the given error, e.g. ``error_code=403, description="Forbidden: bot was blocked by the
        user"`` or ``error_code=502`` (PTB: NetworkError)."""
        with self._lock:
            self._forced.append(
                _ForcedFailure(
                    method, error_code, description, parameters, times, _norm_chat_id(chat_id)
                )
            )

    def set_flood_limits(self, limits: FloodLimits | None = None) -> None:
        """Enforce Telegram flood rules (calls over the limit get 429); ``None`` disables."""
        with self._lock:
            self._flood = limits

    def set_latency(self, seconds: float, methods: Collection[str] | None = None) -> None:
        """Delay answers (of ``methods`` or all methods except getUpdates) by ``seconds``."""
        with self._lock:
            self._latency = seconds
            self._latency_methods = frozenset(methods) if methods is not None else None

    def clear_faults(self) -> None:
        with self._lock:
            self._random_faults = None
            self._forced.clear()
            self._flood = None
            self._latency = 0.0

    def _fault_for(self, call: Call) -> tuple[str, ApiError] | None:
        for forced in self._forced:
            if (
                forced.method == call.method
                and forced.remaining > 0
                and (forced.chat_id is None or forced.chat_id == call.chat_id)
            ):
                forced.remaining -= 1
                err = ApiError(forced.error_code, forced.description, forced.parameters)
                return "forced", err
        self._forced = [f for f in self._forced if f.remaining > 0]
        faults = self._random_faults
        if (
            faults is not None
            and call.method in faults.methods
            and (faults.max_failures is None or faults.injected < faults.max_failures)
            and faults.rng.random() < faults.fraction
        ):
            faults.injected += 1
            return "random_429", _too_many(faults.retry_after)
        limits = self._flood
        if limits is not None and call.method in limits.methods:
            violation = self._flood_violation(call, limits)
            if violation:
                return "flood", _too_many(limits.retry_after)
        return None

    def _flood_violation(self, call: Call, limits: FloodLimits) -> bool:
        def recent(window: float, same_chat: bool) -> int:
            return sum(
                1
                for c in self._calls
                if c is not call
                and c.method in limits.methods
                and c.status in (0, 200)
                and c.fault is None
                and call.at - c.at < window
                and (not same_chat or c.chat_id == call.chat_id)
            )

        if limits.global_per_second is not None and recent(1.0, False) >= limits.global_per_second:
            return True
        if call.chat_id is None:
            return False
        if (
            limits.per_chat_per_second is not None
            and recent(1.0, True) >= limits.per_chat_per_second
        ):
            return True
        is_group = isinstance(call.chat_id, str) or call.chat_id < 0
        return (
            is_group
            and limits.group_per_minute is not None
            and recent(60.0, True) >= limits.group_per_minute
        )

    # ---------------------------------------------------------------- request dispatch

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    @staticmethod
    def _json_response(status: int, body: JSONDict) -> tuple[int, bytes, str]:
        return status, json.dumps(body, ensure_ascii=False).encode(), "application/json"

    @classmethod
    def _error_response(cls, err: ApiError) -> tuple[int, bytes, str]:
        body: JSONDict = {"ok": False, "error_code": err.code, "description": err.description}
        if err.parameters:
            body["parameters"] = err.parameters
        return cls._json_response(err.code, body)

    def _dispatch(
        self, http_method: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, bytes, str]:
        try:
            return self._dispatch_inner(http_method, raw_path, content_type, body)
        except Exception as exc:  # report; never kill the handler thread
            with self._cond:
                self._server_errors.append(f"{http_method} {raw_path}: {exc!r}")
                self._cond.notify_all()
            return self._json_response(
                500,
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"},
            )

    def _dispatch_inner(
        self, http_method: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, bytes, str]:
        split = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(split.path)
        file_prefix = f"/file/bot{self.token}/"
        if http_method == "GET" and path.startswith(file_prefix):
            with self._lock:
                stored = self._files_by_path.get(path[len(file_prefix) :])
            if stored is None or stored.content is None:
                return self._json_response(
                    404, {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            return 200, stored.content, stored.mime_type or "application/octet-stream"

        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if match is None:
            return self._error_response(ApiError(404, "Not Found"))
        token, method = match.groups()

        params: JSONDict = {}
        uploads: dict[str, UploadedFile] = {}
        request_error: ApiError | None = None
        try:
            for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                params[key] = _decode_form_value(key, value)
            ctype = content_type.split(";", 1)[0].strip().lower()
            if body and ctype == "application/x-www-form-urlencoded":
                for key, value in urllib.parse.parse_qsl(
                    body.decode("utf-8"), keep_blank_values=True
                ):
                    params[key] = _decode_form_value(key, value)
            elif body and ctype == "multipart/form-data":
                fields, uploads = _parse_multipart(content_type, body)
                for key, value in fields.items():
                    params[key] = _decode_form_value(key, value)
            elif body and ctype == "application/json":
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    raise _bad("request body must be a JSON object")
                params.update(decoded)
        except ApiError as err:
            request_error = err
        except ValueError as exc:
            request_error = _bad(f"can't parse request: {exc}")

        entry = self._methods.get(method.lower())
        if token != self.token:
            request_error = ApiError(401, "Unauthorized")
        elif entry is None:
            request_error = ApiError(404, "Not Found")
        call = Call(
            method=entry[0] if entry else method,
            params=params,
            files={k: u.content for k, u in uploads.items()},
            at=time.monotonic(),
            chat_id=_norm_chat_id(params.get("chat_id")),
            file_names={k: u.filename for k, u in uploads.items()},
            file_types={k: u.content_type for k, u in uploads.items()},
            http_method=http_method,
        )
        with self._cond:
            self._calls.append(call)
            fault = self._fault_for(call) if request_error is None else None
            if fault is not None:
                call.fault = fault[0]
            latency = self._latency if request_error is None else 0.0
            if self._latency_methods is not None and call.method not in self._latency_methods:
                latency = 0.0
            if self._latency_methods is None and call.method == "getUpdates":
                latency = 0.0

        if latency > 0:
            time.sleep(latency)
        error: ApiError | None = request_error
        result: Any = None
        if error is not None or entry is None:
            pass
        elif fault is not None:
            error = fault[1]
        else:
            try:
                result = entry[1](params, uploads)
            except ApiError as err:
                error = err

        with self._cond:
            if error is not None:
                call.status = error.code
                call.error = error.description
            else:
                call.status = 200
                call.result = copy.deepcopy(result)
            self._cond.notify_all()
        if error is not None:
            return self._error_response(error)
        return self._json_response(200, {"ok": True, "result": result})

    def _method_table(self) -> dict[str, _Method]:
        return {
            "getMe": self._m_get_me,
            "logOut": self._m_true,
            "close": self._m_true,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "sendMessage": self._m_send_message,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "editMessageMedia": self._m_edit_message_media,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "getFile": self._m_get_file,
        }

    # ---------------------------------------------------------------- chats / users helpers

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSONDict:
        user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False})
        user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        self._users[user_id] = user
        return copy.deepcopy(user)

    def _chat_for_user(
        self, user: JSONDict, chat_id: int | None, chat_type: str, chat_title: str | None
    ) -> _Chat:
        if chat_type == "private":
            if chat_id is not None and chat_id != user["id"]:
                raise ValueError("a private chat's id equals the user's id")
            cid = int(user["id"])
            chat_json: JSONDict = {"id": cid, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat_json[key] = user[key]
        else:
            if chat_id is None:
                raise ValueError(f"chat_id is required for chat_type={chat_type!r}")
            cid = chat_id
            existing = self._chats.get(cid)
            title = chat_title or (existing.chat.get("title") if existing else None)
            chat_json = {"id": cid, "type": chat_type, "title": title or "Test Group"}
        chat = self._chats.get(cid)
        if chat is None:
            chat = self._chats[cid] = _Chat(chat=chat_json)
        else:
            chat.chat.update(chat_json)
        return chat

    def _user_message(self, chat: _Chat, user: JSONDict) -> JSONDict:
        return {
            "message_id": chat.new_message_id(),
            "from": copy.deepcopy(user),
            "chat": copy.deepcopy(chat.chat),
            "date": int(time.time()),
        }

    def _attach_reply(self, chat: _Chat, msg: JSONDict, reply_to: int | None) -> None:
        if reply_to is None:
            return
        target = chat.messages.get(reply_to)
        if target is None:
            raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
        msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}

    def _command_entities(self, text: str) -> list[JSONDict]:
        return [
            {
                "type": "bot_command",
                "offset": _utf16_len(text[: m.start()]),
                "length": _utf16_len(m.group(0)),
            }
            for m in _COMMAND_RE.finditer(text)
        ]

    def _resolve_chat(self, params: JSONDict, *, sending: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        cid: int | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            for known in self._chats.values():
                if str(known.chat.get("username", "")).lower() == raw[1:].lower():
                    cid = known.id
                    break
            if cid is None:
                raise _bad("chat not found")
        elif isinstance(raw, int) and not isinstance(raw, bool):
            cid = raw
        elif isinstance(raw, str):
            try:
                cid = int(raw)
            except ValueError as exc:
                raise _bad("chat not found") from exc
        else:
            raise _bad("chat not found")
        chat = self._chats.get(cid)
        if chat is None:
            if self.strict_chats and sending and cid in self._users:
                # Telegram knows this user (seen in a group, say) but they never opened a
                # private chat with the bot: a bot cannot write first.
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if self.strict_chats:
                raise _bad("chat not found")
            if cid > 0:
                user = self._remember_user(cid, None, None, None, None)
                chat = self._chat_for_user(user, cid, "private", None)
            else:
                kind = "supergroup" if str(cid).startswith("-100") else "group"
                chat = self._chats[cid] = _Chat(
                    chat={"id": cid, "type": kind, "title": "Test Group"}
                )
        if sending and chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _new_bot_message(self, chat: _Chat) -> JSONDict:
        return {
            "message_id": chat.new_message_id(),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat.chat),
            "date": int(time.time()),
        }

    @staticmethod
    def _validate_markup(raw: Any, *, inline_only: bool = False) -> JSONDict | None:
        """Validate reply_markup; returns the inline keyboard to store/echo, else ``None``."""
        if raw is None:
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise _bad("can't parse reply keyboard markup JSON object") from exc
        if not isinstance(raw, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse inline keyboard button: Field "inline_keyboard" must '
                    "be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    FakeBotApi._validate_inline_button(button)
            if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": copy.deepcopy(rows)}
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in raw:
            rows = raw["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse keyboard button: Field "keyboard" must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not isinstance(text, str) or not text:
                        raise _bad("can't parse keyboard button: Text must be non-empty")
            return None
        if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
            return None
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if len(actions) > 1:
            raise _bad(
                "can't parse inline keyboard button: exactly one of the optional fields "
                f"must be used, got {actions}"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            scheme = urllib.parse.urlsplit(url).scheme if isinstance(url, str) else ""
            if scheme not in {"http", "https", "tg"}:
                raise _bad("BUTTON_URL_INVALID")

    def _formatted(
        self, text: str, params: JSONDict, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[JSONDict]]:
        parse_mode = params.get("parse_mode")
        plain, entities = parse_formatted_text(
            text, parse_mode if isinstance(parse_mode, str) else None, params.get(entities_key)
        )
        if _utf16_len(plain) > limit:
            raise _bad(too_long)
        return plain, entities

    def _text_of(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _bad("message text is empty")
        plain, entities = self._formatted(
            str(text), params, "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not plain.strip():
            raise _bad("message text is empty")
        return plain, entities

    def _caption_of(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, []
        plain, entities = self._formatted(
            str(caption),
            params,
            "caption_entities",
            MAX_CAPTION_LENGTH,
            "message caption is too long",
        )
        return plain, entities

    def _apply_reply_parameters(self, chat: _Chat, params: JSONDict, msg: JSONDict) -> None:
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except ValueError as exc:
                raise _bad("can't parse reply parameters JSON object") from exc
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not isinstance(reply, dict):
            return
        reply_id = reply.get("message_id")
        target = chat.messages.get(reply_id) if isinstance(reply_id, int) else None
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return
            raise _bad("message to be replied not found")
        msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}

    def _finish_message(
        self, chat: _Chat, msg: JSONDict, params: JSONDict, markup: JSONDict | None
    ) -> JSONDict:
        if markup is not None:
            msg["reply_markup"] = markup
        self._apply_reply_parameters(chat, params, msg)
        if params.get("message_thread_id") is not None:
            msg["message_thread_id"] = params["message_thread_id"]
        chat.messages[msg["message_id"]] = msg
        return copy.deepcopy(msg)

    @staticmethod
    def _set_or_drop(msg: JSONDict, key: str, value: Any) -> None:
        if value:
            msg[key] = value
        else:
            msg.pop(key, None)

    # ---------------------------------------------------------------- files

    def _next_file_ids(self, prefix: str) -> tuple[str, str, int]:
        self._file_counter += 1
        n = self._file_counter
        return f"{prefix}{n:06d}{random.getrandbits(48):012x}", f"AgAD{n:06d}", n

    def _store_document(
        self, content: bytes, filename: str | None, mime: str | None
    ) -> _StoredFile:
        file_id, unique, n = self._next_file_ids("BQACAgIAAxkBAAI")
        ext = ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        obj: JSONDict = {"file_id": file_id, "file_unique_id": unique, "file_size": len(content)}
        if filename:
            obj["file_name"] = filename
        if mime:
            obj["mime_type"] = mime
        stored = _StoredFile(
            file_id, unique, content, filename, mime, f"documents/file_{n}{ext}", obj
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, content: bytes) -> _StoredFile:
        size = _image_size(content)
        if size is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        width, height = size
        file_id, unique, n = self._next_file_ids("AgACAgIAAxkBAAI")
        sizes: list[JSONDict] = []
        scale = min(1.0, 90 / max(width, height, 1))
        if scale < 1.0:
            sizes.append(
                {
                    "file_id": file_id + "_s",
                    "file_unique_id": unique + "_s",
                    "width": max(1, int(width * scale)),
                    "height": max(1, int(height * scale)),
                    "file_size": max(1, len(content) // 10),
                }
            )
        sizes.append(
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": width,
                "height": height,
                "file_size": len(content),
            }
        )
        stored = _StoredFile(
            file_id, unique, content, None, "image/jpeg", f"photos/file_{n}.jpg", sizes
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        for extra in sizes[:-1]:
            self._files[extra["file_id"]] = stored
        return stored

    def _input_file(
        self,
        kind: str,
        value: Any,
        uploads: dict[str, UploadedFile],
        field_name: str,
        *,
        input_media: bool = False,
    ) -> Any:
        """Resolve a document/photo parameter (upload, attach://, file_id or URL) to its JSON.

        As telegram-bot-api's ``Client::get_input_file``: ``attach://<name>`` names a part of
        the multipart upload; an empty value means "the upload whose field is the parameter's
        name", which an ``InputMedia`` object has not got (its ``media`` must be a URL, a
        file id or an ``attach://`` name present in the upload, else "media not found").
        """
        upload: UploadedFile | None = None
        missing = _MEDIA_NOT_FOUND if input_media else f"there is no {kind} in the request"
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(missing)
        elif value is None or value == "":
            upload = None if input_media else uploads.get(field_name)
            if upload is None:
                raise _bad(missing)
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            if kind == "photo":
                return self._store_photo(upload.content).obj
            mime = upload.content_type or mimetypes.guess_type(upload.filename)[0]
            return self._store_document(upload.content, upload.filename, mime).obj
        if not isinstance(value, str) or not value:
            raise _bad("wrong file identifier/HTTP URL specified")
        stored = self._files.get(value)
        if stored is not None:
            if kind == "photo" and not isinstance(stored.obj, list):
                raise _bad("can't use file of type Document as Photo")
            if kind == "document" and isinstance(stored.obj, list):
                raise _bad("can't use file of type Photo as Document")
            return copy.deepcopy(stored.obj)
        if value.startswith(("http://", "https://")):
            name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            if kind == "photo":
                return self._store_photo(b"\x89PNG\r\n\x1a\n" + bytes(8) + bytes(16)).obj
            stored = self._store_document(b"", name, mimetypes.guess_type(name)[0])
            stored.content = None
            return copy.deepcopy(stored.obj)
        raise _bad("wrong file identifier/HTTP URL specified")

    # ---------------------------------------------------------------- method implementations

    def _m_true(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        return True

    def _m_get_me(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _allowed(self, update: JSONDict) -> bool:
        kind = _update_type(update)
        if not self._allowed_updates:
            return kind not in _NOT_DEFAULT_UPDATE_TYPES
        return kind in self._allowed_updates

    def _deliverable(self) -> list[JSONDict]:
        keep: list[JSONDict] = []
        for update in self._pending:
            if self._allowed(update):
                keep.append(update)
            else:
                self._dropped_updates.append(update)
        self._pending = keep
        return keep

    def _m_get_updates(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> list[JSONDict]:
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, int | float) else 100
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # wake (and terminate) a concurrent long poll
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            if isinstance(offset, int) and not isinstance(offset, bool):
                if offset < 0:
                    self._pending = self._pending[offset:]
                else:
                    self._pending = [u for u in self._pending if u["update_id"] >= offset]
            deadline = time.monotonic() + timeout
            while True:
                if self._stopping:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                if self._webhook is not None:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                ready = self._deliverable()[:limit]
                if ready:
                    return copy.deepcopy(ready)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def _m_set_webhook(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        url = params.get("url")
        if url is None:
            raise _bad('parameter "url" is required')
        url = str(url)
        with self._cond:
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            if not url:
                self._webhook = None
                self._cond.notify_all()
                return True
            scheme = urllib.parse.urlsplit(url).scheme
            allowed_schemes = {"https"} if self.require_https_webhook else {"https", "http"}
            if scheme not in allowed_schemes:
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            secret = params.get("secret_token")
            if secret is not None:
                secret = str(secret)
                if not _SECRET_TOKEN_RE.fullmatch(secret):
                    raise _bad("secret token contains unallowed characters")
            max_conn = params.get("max_connections", 40)
            if not isinstance(max_conn, int) or not 1 <= max_conn <= 100:
                raise _bad("bad webhook: max_connections must be between 1 and 100")
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            self._webhook = WebhookConfig(
                url=url,
                secret_token=secret,
                max_connections=max_conn,
                allowed_updates=list(self._allowed_updates) if self._allowed_updates else None,
                ip_address=params.get("ip_address"),
                has_custom_certificate="certificate" in uploads,
                set_at=time.monotonic(),
            )
            self._cond.notify_all()
            return True

    def _m_delete_webhook(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            self._cond.notify_all()
            return True

    def _m_get_webhook_info(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            hook = self._webhook
            info: JSONDict = {
                "url": hook.url if hook else "",
                "has_custom_certificate": bool(hook and hook.has_custom_certificate),
                "pending_update_count": len(self._pending),
            }
            if hook is not None:
                info["max_connections"] = hook.max_connections
                if hook.ip_address:
                    info["ip_address"] = hook.ip_address
                if self._allowed_updates:
                    info["allowed_updates"] = list(self._allowed_updates)
                if hook.last_error_date is not None:
                    info["last_error_date"] = hook.last_error_date
                    info["last_error_message"] = hook.last_error_message
            return info

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    def _check_scope(self, params: JSONDict) -> None:
        """A chat scope must name a chat the bot can reach: Telegram answers "chat not found"
        for a user who never opened a private chat with the bot."""
        scope = params.get("scope")
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError as exc:
                raise _bad("can't parse BotCommandScope JSON object") from exc
        if isinstance(scope, dict) and scope.get("type") in {
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            with self._lock:
                self._resolve_chat({"chat_id": scope.get("chat_id")}, sending=False)

    def _m_set_my_commands(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        self._check_scope(params)
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        clean: list[JSONDict] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad("can't parse BotCommand")
            name, desc = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not 1 <= len(desc) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        with self._lock:
            self._commands[self._commands_key(params)] = clean
        return True

    def _m_delete_my_commands(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        self._check_scope(params)
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def _m_get_my_commands(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        self._check_scope(params)
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _m_send_message(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            chat = self._resolve_chat(params)
            text, entities = self._text_of(params)
            markup = self._validate_markup(params.get("reply_markup"))
            msg = self._new_bot_message(chat)
            msg["text"] = text
            if entities:
                msg["entities"] = entities
            return self._finish_message(chat, msg, params, markup)

    def _send_media(
        self, kind: str, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            chat = self._resolve_chat(params)
            caption, cap_entities = self._caption_of(params)
            markup = self._validate_markup(params.get("reply_markup"))
            media = self._input_file(kind, params.get(kind), uploads, kind)
            msg = self._new_bot_message(chat)
            msg[kind] = media
            if caption is not None:
                msg["caption"] = caption
            if cap_entities:
                msg["caption_entities"] = cap_entities
            return self._finish_message(chat, msg, params, markup)

    def _m_send_document(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return self._send_media("document", params, uploads)

    def _m_send_photo(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return self._send_media("photo", params, uploads)

    def _message_to_edit(self, params: JSONDict, verb: str = "edit") -> tuple[_Chat, JSONDict]:
        if params.get("inline_message_id") is not None:
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params, sending=False)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if msg is None:
            raise _bad(f"message to {verb} not found")
        if verb == "edit" and msg.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return chat, msg

    def _m_edit_message_text(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            if "text" not in msg:
                raise _bad("there is no text in the message to edit")
            text, entities = self._text_of(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if (
                text == msg["text"]
                and entities == msg.get("entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            msg["text"] = text
            self._set_or_drop(msg, "entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_reply_markup(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if markup == msg.get("reply_markup"):
                raise _bad(_NOT_MODIFIED)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_caption(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            if "document" not in msg and "photo" not in msg:
                raise _bad("there is no caption in the message to edit")
            caption, entities = self._caption_of(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if (
                caption == msg.get("caption")
                and entities == msg.get("caption_entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            self._set_or_drop(msg, "caption", caption)
            self._set_or_drop(msg, "caption_entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_media(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            # The server parses the InputMedia (and its upload) before it looks for the message.
            media = params.get("media")
            if not isinstance(media, dict) or media.get("type") not in {"document", "photo"}:
                raise _bad("can't parse InputMedia JSON object (fake supports document/photo)")
            source = media.get("media", "")
            if not isinstance(source, str):
                raise _bad('can\'t parse InputMedia: field "media" must be of type String')
            if not source or (
                source.startswith("attach://") and source[len("attach://") :] not in uploads
            ):
                raise _bad(_MEDIA_NOT_FOUND)
            _chat, msg = self._message_to_edit(params)
            if "document" not in msg and "photo" not in msg:
                raise _bad("there is no media in the message to edit")
            kind = str(media["type"])
            caption_params = {
                "caption": media.get("caption"),
                "parse_mode": media.get("parse_mode"),
                "caption_entities": media.get("caption_entities"),
            }
            caption, entities = self._caption_of(caption_params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            old_media = msg.get("document") or msg.get("photo")
            new_media = self._input_file(
                kind, media.get("media"), uploads, "media", input_media=True
            )
            if (
                new_media == old_media
                and caption == msg.get("caption")
                and entities == msg.get("caption_entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            msg.pop("document", None)
            msg.pop("photo", None)
            msg[kind] = new_media
            self._set_or_drop(msg, "caption", caption)
            self._set_or_drop(msg, "caption_entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_delete_message(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._lock:
            chat, msg = self._message_to_edit(params, verb="delete")
            from_bot = msg.get("from", {}).get("id") == self.bot_id
            if not from_bot and chat.chat.get("type") != "private" and not chat.bot_is_admin:
                raise _bad("message can't be deleted")
            del chat.messages[msg["message_id"]]
            return True

    def _m_answer_callback_query(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            query = self._callback_queries.get(query_id)
            if query is None or query.answered:
                raise _bad(_QUERY_TOO_OLD)
            text = params.get("text")
            if isinstance(text, str) and len(text) > 200:
                raise _bad("MESSAGE_TOO_LONG")
            query.answered = True
            return True

    def _m_send_chat_action(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._lock:
            self._resolve_chat(params)
            if params.get("action") not in _CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True

    def _m_get_file(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
            if stored is None:
                raise _bad("invalid file_id")
            result: JSONDict = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_path": stored.file_path,
            }
            if stored.content is not None:
                result["file_size"] = len(stored.content)
            return result

    # ---------------------------------------------------------------- webhook delivery

    def _delivery_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (self._webhook is None or not self._deliverable()):
                    self._cond.wait(0.5)
                if self._stopping:
                    return
                hook = self._webhook
                assert hook is not None
                update = self._pending[0]
                body = json.dumps(update, ensure_ascii=False).encode()
            status, error = self._post_webhook(hook.url, body, hook.secret_token)
            with self._cond:
                self._deliveries.append(
                    WebhookDelivery(
                        update_id=update["update_id"],
                        url=hook.url,
                        status=status,
                        error=error,
                        at=time.monotonic(),
                        secret_token=hook.secret_token,
                    )
                )
                if error is None:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                else:
                    if self._webhook is hook:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = error
                    self._cond.notify_all()
                    self._cond.wait(self.webhook_retry_interval)
                self._cond.notify_all()

    def _post_webhook(
        self, url: str, body: bytes, secret: str | None
    ) -> tuple[int | None, str | None]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.webhook_timeout) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code, f"Wrong response from the webhook: {exc.code} {exc.reason}"
        except (OSError, ValueError) as exc:
            return None, f"Connection failed: {exc}"
        if not 200 <= status < 300:
            return status, f"Wrong response from the webhook: {status}"
        return status, None
