"""Every setting of ATTN, read from the environment (prefix `ATTN_`) and an optional `.env`."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[list[int], NoDecode]
# What Telegram accepts as a webhook secret_token, at the length we ask for: anyone who can
# guess it can post forged updates (any user, any command) to the webhook.
WEBHOOK_SECRET_MIN_LENGTH = 32
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# A Telegram user id as typed in an id list: ASCII digits, positive (no sign).
_USER_ID = re.compile(r"[1-9][0-9]{0,15}", re.ASCII)
# Hosts a plain-http ATTN_PUBLIC_URL may name: this machine only (tests, development).
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# How `attn check-config` tells an operator to make one.
MAKE_A_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


class Settings(BaseSettings):
    """One settings object, built once by the CLI and passed down; tests build it explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="ATTN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr
    redis_url: SecretStr | None = None
    redis_cluster: bool = False
    database_url: SecretStr | None = None
    data_dir: Path = Path("attn-data")
    telegram_api_url: str | None = None
    teacher_ids: IdList = Field(default_factory=list)
    admin_ids: IdList = Field(default_factory=list)
    session_minutes: int = Field(default=10, ge=1, le=240)
    sweep_seconds: float = Field(default=15.0, gt=0, le=3600)
    user_idle_minutes: int = Field(default=30, ge=1)
    timezone: str = "UTC"
    # For users whose Telegram language we have no catalog for (and who chose none).
    default_language: str = "en"
    sweep_lease_seconds: float = Field(default=60.0, gt=0)
    redis_max_connections: int = Field(default=300, ge=8)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    log_level: str = "INFO"
    card_refresh_seconds: float = Field(default=5.0, ge=1.0, le=300)
    failpoint: str | None = None
    code_rotation_seconds: int = Field(default=30, ge=0, le=3600)
    code_grace_seconds: int = Field(default=5, ge=0, le=300)
    geo_radius_meters: int = Field(default=150, ge=10, le=10_000)
    retention_days: int = Field(default=400, ge=1)
    user_rate_per_minute: int = Field(default=30, ge=1)
    global_rate_per_second: int = Field(default=500, ge=1)
    # The REST API: requests per token and minute (beyond: 429 with Retry-After).
    api_requests_per_minute: int = Field(default=600, ge=1, le=100_000)
    # How long a course's webhook receiver may take to answer one delivery.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Course webhooks may reach loopback and private addresses (and plain http to this
    # machine): tests and development only; off, the bot never calls inside its network.
    webhook_allow_private: bool = False
    webhook_url: str | None = None
    # Checked after webhook_url (declaration order), so the validator sees the URL.
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=1, le=65535)
    # Where the web server (projector page, Mini App) is reachable from browsers; set, the
    # web server runs in polling mode too. Unset (and no webhook): no web server at all.
    public_url: str | None = None
    # How old a Mini App's initData may be (seconds since Telegram opened the app): a copied
    # initData checks no one in after this. Reopening the app gives a fresh one.
    webapp_auth_max_age: int = Field(default=900, ge=60, le=86_400)
    # The short name of a Mini App created with BotFather's /newapp: QR codes and buttons
    # then open t.me/<bot>/<short name>; unset, they open the bot's main Mini App, or the
    # chat while getMe says the bot has none (bot.cards.opens_mini_app).
    miniapp_short_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{3,30}$")

    @field_validator(
        "redis_url", "database_url", "telegram_api_url", "miniapp_short_name", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`ATTN_REDIS_URL=` (as in .env.example) means "not set": use the embedded server."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("teacher_ids", "admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            for part in parts:
                # ASCII digits only: `str.isdigit()` also accepts "²" (which int() refuses)
                # and "١٠٠١" or "１２" (which int() silently reads as 1001 and 12). User ids
                # are positive, so no sign either.
                if _USER_ID.fullmatch(part) is None:
                    raise ValueError("must be comma-separated Telegram user ids, e.g. 1001,1002")
            return [int(p) for p in parts]
        return value

    @field_validator("redis_cluster")
    @classmethod
    def _cluster_needs_url(cls, value: bool, info: ValidationInfo) -> bool:
        url = info.data.get("redis_url")
        if value and (url is None or not url.get_secret_value()):
            raise ValueError("needs ATTN_REDIS_URL: the embedded Redis is not a cluster")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone such as Europe/Berlin") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _available_language(cls, value: str) -> str:
        from bot.text import available_languages

        value = value.strip().lower()
        if value not in available_languages():
            raise ValueError(f"must be one of {', '.join(available_languages())}")
        return value

    @field_validator("code_grace_seconds")
    @classmethod
    def _rotation_outlives_the_card(cls, value: int, info: ValidationInfo) -> int:
        """A rotating code must stay on the card for one card refresh plus its grace period,
        or the code on the projector is dead most of the time (/start_session's rotate=N is
        held to the same bound)."""
        rotation = info.data.get("code_rotation_seconds")
        refresh = info.data.get("card_refresh_seconds")
        if rotation and refresh is not None and rotation < math.ceil(refresh) + value:
            shortest = math.ceil(refresh) + value
            raise ValueError(
                f"plus ATTN_CARD_REFRESH_SECONDS is longer than ATTN_CODE_ROTATION_SECONDS: "
                f"set ATTN_CODE_ROTATION_SECONDS to 0 (fixed codes) or at least {shortest}"
            )
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("must look like 123456:ABC... (from @BotFather)")
        return value

    @field_validator("failpoint")
    @classmethod
    def _known_failpoint(cls, value: str | None) -> str | None:
        from bot.failpoints import POINTS

        if value and value not in POINTS:
            raise ValueError(f"must be one of {', '.join(POINTS)} (tests only)")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise ValueError("must be the public https:// URL Telegram posts updates to")
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        """HTTPS only (Telegram opens Mini Apps over HTTPS alone, and the projector link
        carries a credential); plain http only to this machine, for tests and development."""
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            parts = urlsplit(value)
            local = parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
            if (parts.scheme != "https" and not local) or not parts.hostname:
                raise ValueError(
                    "must be the https:// URL browsers reach the web server at "
                    "(http:// only for 127.0.0.1 or localhost)"
                )
            if parts.query or parts.fragment or parts.username or parts.password:
                raise ValueError("must be a plain https:// URL (no query, fragment or login)")
            value = value.rstrip("/")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("is required when ATTN_WEBHOOK_URL is set")
            return None
        secret = value.get_secret_value()
        if not _SECRET_TOKEN.fullmatch(secret):
            raise ValueError(
                "must be 32-256 characters of A-Z, a-z, 0-9, _ and -; make one with "
                + MAKE_A_SECRET
            )
        if len(secret) < WEBHOOK_SECRET_MIN_LENGTH:
            raise ValueError(
                f"must be at least {WEBHOOK_SECRET_MIN_LENGTH} characters (it has "
                f"{len(secret)}); make one with {MAKE_A_SECRET}"
            )
        return value

    def secret_values(self) -> list[str]:
        """Every configured secret (each `SecretStr` setting), for the log redaction.

        Why every field of the type: a secret added later is redacted without anyone
        remembering to list it here.
        """
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served on: the path of ATTN_WEBHOOK_URL ("/" when none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def web_enabled(self) -> bool:
        """The web features (projector page, Mini App) are on: ATTN_PUBLIC_URL is set."""
        return self.public_url is not None

    @property
    def serves_http(self) -> bool:
        """A web server runs: for the webhook, the web features, or both."""
        return self.webhook_url is not None or self.public_url is not None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def describe_settings_error(error: ValidationError) -> str:
    """One line per bad setting, naming the variable and never echoing its value."""
    lines = []
    for item in error.errors():
        name = "ATTN_" + "_".join(str(part) for part in item["loc"][:1]).upper()
        problem = "is required but not set" if item["type"] == "missing" else item["msg"]
        problem = problem.removeprefix("Value error, ")
        lines.append(f"configuration error: {name} {problem}")
    return "\n".join(lines)
