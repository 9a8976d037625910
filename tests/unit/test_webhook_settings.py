"""Webhook settings: a URL needs a secret Telegram accepts; empty values mean polling."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.__main__ import secrets_of
from bot.settings import Settings, describe_settings_error


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token="1:x", **values)  # type: ignore[call-arg,arg-type]


def problem(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return describe_settings_error(caught.value)


def test_polling_by_default_and_with_empty_values() -> None:
    for values in ({}, {"webhook_url": "", "webhook_secret": ""}, {"webhook_url": "  "}):
        s = settings(**values)
        assert s.webhook_url is None and s.webhook_secret is None
    s = settings()
    assert (s.listen_host, s.listen_port) == ("127.0.0.1", 8080)


def test_a_webhook_needs_a_secret() -> None:
    assert problem(webhook_url="https://bot.example.org/tg") == (
        "configuration error: ATTN_WEBHOOK_SECRET is required when ATTN_WEBHOOK_URL is set"
    )
    assert "ATTN_WEBHOOK_SECRET is required" in problem(
        webhook_url="https://bot.example.org/tg", webhook_secret=""
    )


GOOD_SECRET = "Abc_123-xyz-0123456789-abcdefghij"  # 33 characters


@pytest.mark.parametrize(
    "secret",
    ["has space" * 4, "ünï" * 11, "a" * 257, "semi;colon" * 4, "x/y" * 11],
)
def test_the_secret_is_what_telegram_accepts(secret: str) -> None:
    line = problem(webhook_url="https://bot.example.org/tg", webhook_secret=secret)
    assert line.startswith("configuration error: ATTN_WEBHOOK_SECRET must be 32-256 characters")
    assert secret not in line
    assert "secrets.token_urlsafe(32)" in line


@pytest.mark.parametrize("length", [1, 6, 16, 31])
def test_a_short_secret_is_refused_and_says_how_to_make_one(length: int) -> None:
    secret = "k" * length
    line = problem(webhook_url="https://bot.example.org/tg", webhook_secret=secret)
    assert line == (
        f"configuration error: ATTN_WEBHOOK_SECRET must be at least 32 characters (it has "
        f'{length}); make one with python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
    )


def test_thirty_two_characters_are_enough() -> None:
    s = settings(webhook_url="https://bot.example.org/tg", webhook_secret="k" * 32)
    assert s.webhook_secret is not None and len(s.webhook_secret.get_secret_value()) == 32
    assert settings(webhook_url="https://bot.example.org/tg", webhook_secret="k" * 256)


def test_a_good_webhook_configuration() -> None:
    s = settings(
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_secret=GOOD_SECRET,
        listen_host="0.0.0.0",
        listen_port="8443",
    )
    assert s.webhook_path == "/telegram/hook" and s.listen_port == 8443
    assert GOOD_SECRET in secrets_of(s)
    assert (
        settings(webhook_url="https://bot.example.org", webhook_secret=GOOD_SECRET).webhook_path
        == "/"
    )


@pytest.mark.parametrize("url", ["bot.example.org/hook", "ftp://bot.example.org/", "https://"])
def test_the_url_must_be_http_or_https(url: str) -> None:
    assert problem(webhook_url=url).startswith("configuration error: ATTN_WEBHOOK_URL must be")


def test_the_port_must_be_a_port() -> None:
    assert "ATTN_LISTEN_PORT" in problem(listen_port=70000)


def test_the_public_url_is_https_or_this_machine() -> None:
    assert settings().public_url is None and not settings().web_enabled
    assert settings(public_url="  ").public_url is None
    assert not settings().serves_http
    for url in ("https://attn.example.org/", "http://127.0.0.1:8080", "http://localhost:9"):
        s = settings(public_url=url)
        assert s.public_url == url.rstrip("/") and s.web_enabled and s.serves_http
    for url in (
        "http://attn.example.org",
        "http://10.0.0.5:8080",
        "ftp://attn.example.org",
        "attn.example.org",
        "https://",
        "https://attn.example.org/?k=v",
        "https://user:pw@attn.example.org",
    ):
        line = problem(public_url=url)
        assert line.startswith("configuration error: ATTN_PUBLIC_URL must be "), (url, line)
        assert "pw@" not in line and "k=v" not in line  # the value is never echoed
