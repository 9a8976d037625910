"""`FakeBotApi`: the fake Bot API server, and what tests read back from it."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import threading
import time
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any

from tests.fakes.botapi.http import _Server
from tests.fakes.botapi.model import (
    SEND_METHODS,
    Call,
    JSONDict,
    WebhookConfig,
    WebhookDelivery,
    _norm_chat_id,
)
from tests.fakes.botapi.users import UserSide


class FakeBotApi(UserSide):
    """In-process fake of the Telegram Bot API server (see the package docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

    def get_update(self, update_id: int) -> JSONDict:
        with self._lock:
            return copy.deepcopy(self._all_updates[update_id])

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
