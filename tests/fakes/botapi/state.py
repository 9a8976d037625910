"""The fake Bot API's state: chats, users, updates, calls, faults, webhook (one lock)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.fakes.botapi.http import _Server
from tests.fakes.botapi.model import (
    Call,
    FloodLimits,
    JSONDict,
    WebhookConfig,
    WebhookDelivery,
    _CallbackQuery,
    _Chat,
    _ForcedFailure,
    _Method,
    _RandomFaults,
    _StoredFile,
)


class FakeState:
    """Everything the fake remembers; the methods live in the classes built on it."""

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
        has_main_web_app: bool = False,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        #: If true, sending to a chat that never appeared in an injected update (and was not
        #: :meth:`register_chat`-ed) fails with 400 "chat not found", like Telegram.
        self.strict_chats = strict_chats
        self.require_https_webhook = require_https_webhook
        #: What getMe says of a main Mini App set in @BotFather: none, as for a new bot
        #: (a test may set it before the bot asks).
        self.has_main_web_app = has_main_web_app
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
        # (field, language_code) -> the bot's description or short description.
        self._descriptions: dict[tuple[str, str], str] = {}
        self._random_faults: _RandomFaults | None = None
        self._forced: list[_ForcedFailure] = []
        self._flood: FloodLimits | None = None
        self._stopping = False
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._delivery_thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._started_at = time.monotonic()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        # Filled by FakeBotApi once every method is defined.
        self._methods: dict[str, tuple[str, _Method]] = {}

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
