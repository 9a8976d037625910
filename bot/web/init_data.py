"""Telegram's `initData`: who opened the Mini App, signed by Telegram with our bot token.

Validated exactly as Telegram documents ("Validating data received via the Mini App"):
the secret key is HMAC-SHA-256 of the bot token keyed with the constant "WebAppData"; the
data-check-string is every received field except `hash`, as `key=value` lines sorted by key
and joined by a line feed; the expected `hash` is the hex HMAC-SHA-256 of that string with
the secret key, compared in constant time. `auth_date` (when the Mini App was opened) must be
younger than a configured age, so a copied `initData` stops working soon after.

Pure functions: no I/O, the time is passed in. The string is the only proof of who a request
comes from: the user id is never read from anywhere else (a body, a query parameter).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from urllib.parse import unquote_plus, urlencode

# Telegram's clock and ours may differ a little; an `auth_date` further in the future than
# this is not a clock difference.
CLOCK_SKEW = timedelta(seconds=60)
# initData is a few hundred bytes; a header far larger than this is not Telegram's.
MAX_INIT_DATA_LENGTH = 8192


class Refusal(StrEnum):
    """Why an `initData` was refused (the page says which, in the user's words)."""

    MISSING = "missing"  # no initData at all: not opened from Telegram
    INVALID = "invalid"  # malformed, tampered with, or signed with another bot's token
    EXPIRED = "expired"  # signed, but opened too long ago (or dated in the future)


class InitDataRefused(Exception):
    def __init__(self, reason: Refusal, language_code: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        # The (unverified) language of the user it claims to be: only to word the refusal.
        self.language_code = language_code


@dataclass(frozen=True)
class WebAppUser:
    """The verified user and what Telegram told the app about this launch."""

    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    auth_date: datetime
    start_param: str | None


@lru_cache(maxsize=4)
def secret_key(bot_token: str) -> bytes:
    """HMAC-SHA-256 of the bot token with the key "WebAppData" (Telegram's derivation);
    derived once per token, not once per request."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    """Every field but `hash`, `key=value`, sorted by key, one per line."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The `hash` Telegram puts in initData carrying `fields` (hex)."""
    # hmac.digest: the one-shot C path (no HMAC object per request).
    return hmac.digest(secret_key(bot_token), data_check_string(fields).encode(), "sha256").hex()


def signed_init_data(fields: dict[str, str], bot_token: str) -> str:
    """A query string as Telegram builds it: `fields` plus their `hash` (tests, benchmarks)."""
    return urlencode({**fields, "hash": sign(fields, bot_token)})


def unquote_plus_fast(value: str) -> str:
    """`urllib.parse.unquote_plus(value)`, the same string, in a quarter of its time for
    the ASCII text Telegram sends (the `user` field is a percent-encoded JSON object in
    every request): the escapes are decoded by the C codec; anything it would not read
    exactly as urllib does (a backslash, non-ASCII text, a malformed escape) goes to urllib."""
    if "%" not in value:
        return value.replace("+", " ") if "+" in value else value
    if value.isascii() and "\\" not in value:
        try:
            raw = value.replace("+", " ").replace("%", "\\x").encode().decode("unicode_escape")
        except UnicodeDecodeError:  # a % not followed by two hex digits
            pass
        else:
            return raw.encode("latin-1").decode("utf-8", "replace")
    return unquote_plus(value)


def query_pairs(query: str) -> list[tuple[str, str]] | None:
    """`parse_qsl(query, keep_blank_values=True, strict_parsing=True)`, None where it raises;
    a part with nothing to decode is taken as it is (every Mini App check-in reads one)."""
    pairs: list[tuple[str, str]] = []
    if not query:
        return pairs
    for part in query.split("&"):
        key, equals, value = part.partition("=")
        if not equals:
            return None  # strict parsing: every part is key=value
        if "%" in key or "+" in key:
            key = unquote_plus_fast(key)
        if "%" in value or "+" in value:
            value = unquote_plus_fast(value)
        pairs.append((key, value))
    return pairs


def validate_init_data(
    init_data: str, bot_token: str, *, now: datetime, max_age: timedelta
) -> WebAppUser:
    """The user `init_data` proves, or `InitDataRefused` saying why not.

    Each key must appear once (a repeated key could mean two different things to two
    parsers); the hash is compared in constant time before anything in the data is trusted.
    """
    if not init_data:
        raise InitDataRefused(Refusal.MISSING)
    if len(init_data) > MAX_INIT_DATA_LENGTH:
        raise InitDataRefused(Refusal.INVALID)
    pairs = query_pairs(init_data)
    if pairs is None:
        raise InitDataRefused(Refusal.INVALID)
    fields = dict(pairs)
    user = _user_object(fields.get("user"))  # read once: for the refusal's wording, then trusted
    language = _claimed_language(user)
    received = fields.get("hash", "")
    if len(fields) != len(pairs) or not received:
        raise InitDataRefused(Refusal.INVALID, language)
    expected = sign(fields, bot_token)
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise InitDataRefused(Refusal.INVALID, language)
    user, user_id, auth_date = _signed_user(user, fields, language)
    if auth_date > now + CLOCK_SKEW or now - auth_date > max_age:
        raise InitDataRefused(Refusal.EXPIRED, language)
    return WebAppUser(
        user_id=user_id,
        first_name=str(user.get("first_name") or ""),
        last_name=_optional_text(user.get("last_name")),
        username=_optional_text(user.get("username")),
        language_code=language,
        auth_date=auth_date,
        start_param=fields.get("start_param") or None,
    )


def _user_object(user_json: str | None) -> dict[str, object] | None:
    """The `user` field's object (None when absent or not a JSON object)."""
    if not user_json:
        return None
    try:
        user = json.loads(user_json)
    except (ValueError, RecursionError):  # (nested a thousand deep: read before the hash)
        return None
    return user if isinstance(user, dict) else None


def _signed_user(
    user: dict[str, object] | None, fields: dict[str, str], language: str | None
) -> tuple[dict[str, object], int, datetime]:
    """The user object, its id and the auth_date of a correctly signed initData (Telegram
    always sends both for a Mini App opened by a user; without them no one checks in)."""
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        raise InitDataRefused(Refusal.INVALID, language) from None
    if user is None:
        raise InitDataRefused(Refusal.INVALID, language)
    user_id = user.get("id")
    if type(user_id) is not int or user_id <= 0 or user.get("is_bot"):
        raise InitDataRefused(Refusal.INVALID, language)
    return user, user_id, auth_date


def _claimed_language(user: dict[str, object] | None) -> str | None:
    """The language code the (not yet verified) user object names, to word a refusal."""
    code = user.get("language_code") if user is not None else None
    return code if isinstance(code, str) and code.isascii() and len(code) <= 16 else None


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
