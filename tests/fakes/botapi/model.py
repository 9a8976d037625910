"""Telegram's limits, the errors it answers, and the records the fake keeps (calls, chats,
files, webhook deliveries)."""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

#: Methods that create a message in a chat (counted by the flood helpers and :meth:`messages_to`).
SEND_METHODS: frozenset[str] = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
#: Methods that modify an existing message.
EDIT_METHODS: frozenset[str] = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageMedia", "editMessageCaption"}
)
#: Default target set for random 429 injection.
RATE_LIMITED_METHODS: frozenset[str] = SEND_METHODS | EDIT_METHODS

#: Update types Telegram does not deliver unless explicitly listed in ``allowed_updates``.
_NOT_DEFAULT_UPDATE_TYPES: frozenset[str] = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

#: Parameters whose value is a plain string by definition; everything else is JSON-decoded.
_STRING_PARAMS: frozenset[str] = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "inline_message_id",
        "action",
        "language_code",
        "ip_address",
        "document",
        "photo",
        "thumbnail",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "name",
        "description",
        "short_description",
        "title",
        "emoji",
        "certificate",
    }
)

_INLINE_BUTTON_ACTIONS: tuple[str, ...] = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_CHAT_ACTIONS: frozenset[str] = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: Telegram's limits (Bot API documentation; the server answers the errors below past them).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
#: At most 100 buttons in an inline keyboard; past it the server answers REPLY_MARKUP_TOO_LONG,
#: which telegram-bot-api's Client.cpp turns into "reply markup is too long".
MAX_INLINE_BUTTONS = 100
#: getFile refuses bigger files: bots may download up to 20 MB (Bot API "Limits").
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_MEDIA_NOT_FOUND = "can't parse InputMedia: media not found"


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API (HTTP status == ``code``)."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Call:
    """One Bot API request made by the bot.

    ``params`` holds decoded parameter values (JSON decoded except for string parameters);
    ``files`` maps multipart part names (e.g. ``"document"`` or ``"attached<hex>"``) to bytes.
    ``status`` is ``0`` while the request is in flight, then the HTTP status sent back.
    """

    method: str
    params: JSONDict
    files: dict[str, bytes]
    at: float
    chat_id: int | str | None
    file_names: dict[str, str] = field(default_factory=dict)
    file_types: dict[str, str] = field(default_factory=dict)
    http_method: str = "POST"
    status: int = 0
    result: Any = None
    error: str | None = None
    #: ``"random_429"``, ``"flood"`` or ``"forced"`` when the answer was an injected failure.
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` parameter as sent by the bot (before entity parsing)."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def message_id(self) -> int | None:
        """message_id of the message returned by a successful send/edit call."""
        if isinstance(self.result, dict):
            mid = self.result.get("message_id")
            return mid if isinstance(mid, int) else None
        return None


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part."""

    field: str
    filename: str
    content_type: str
    content: bytes


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None
    has_custom_certificate: bool
    set_at: float
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    url: str
    status: int | None
    error: str | None
    at: float
    secret_token: str | None


@dataclass(frozen=True)
class FloodLimits:
    """Flood rules enforced when passed to :meth:`FakeBotApi.set_flood_limits`.

    Calls exceeding a limit are answered with 429.  ``None`` disables a rule.  Telegram's
    documented guidance: ~30 messages/s overall, ~1 message/s per chat, 20 messages/min per
    group.  Telegram itself tolerates short bursts; this check is strict.  ``retry_after``
    None answers as Telegram does: the whole seconds until the exceeded window has room
    again (at least 1); a number answers that instead.
    """

    global_per_second: int | None = 30
    per_chat_per_second: int | None = 1
    group_per_minute: int | None = 20
    retry_after: float | None = None
    methods: frozenset[str] = RATE_LIMITED_METHODS


# --------------------------------------------------------------------------------------------
# Internal state types
# --------------------------------------------------------------------------------------------


@dataclass
class _Chat:
    chat: JSONDict
    next_message_id: int = 1
    messages: dict[int, JSONDict] = field(default_factory=dict)
    blocked: bool = False
    bot_is_admin: bool = False

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes | None
    file_name: str | None
    mime_type: str | None
    file_path: str
    obj: Any  # the JSON object (Document dict or list of PhotoSize dicts)


@dataclass
class _CallbackQuery:
    id: str
    update_id: int
    answered: bool = False


@dataclass
class _RandomFaults:
    fraction: float
    retry_after: float
    methods: frozenset[str]
    rng: random.Random
    max_failures: int | None
    injected: int = 0


@dataclass
class _ForcedFailure:
    method: str
    error_code: int
    description: str
    parameters: JSONDict | None
    remaining: int
    chat_id: int | str | None


@dataclass
class _Open:
    kind: str
    offset: int
    byte: int
    extra: JSONDict = field(default_factory=dict)
    name: str = ""


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _retry_after_value(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _too_many(retry_after: float) -> ApiError:
    value = _retry_after_value(retry_after)
    return ApiError(429, f"Too Many Requests: retry after {value}", {"retry_after": value})


def _norm_chat_id(raw: Any) -> int | str | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            return int(raw)
        return raw
    return None


def _decode_form_value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _update_type(update: Mapping[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


#: One Bot API method's implementation: (parameters, uploads) -> result.
_Method = Callable[[JSONDict, dict[str, UploadedFile]], Any]
