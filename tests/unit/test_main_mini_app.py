"""With the web on, the QR codes are `t.me/<bot>?startapp=` links: they open the Mini App
only when the bot has one in @BotFather. Without it Telegram opens the chat and drops the
code, so the operator is told at start, with what to do."""

from __future__ import annotations

import pytest
from telegram import User

from bot.cards import MiniAppRoute, missing_main_app

pytestmark = pytest.mark.unit
PAGE = "https://attn.example.edu/miniapp"


def bot_user(has_main_web_app: bool | None) -> User:
    return User(123456, "ATTN", True, username="attn_test_bot", has_main_web_app=has_main_web_app)


def test_a_bot_without_a_main_mini_app_is_reported_with_the_fix() -> None:
    warning = missing_main_app(MiniAppRoute(None, PAGE), bot_user(False))
    assert warning is not None
    assert "t.me/attn_test_bot?startapp=" in warning and "checks no one in" in warning
    assert "Configure Mini App" in warning and PAGE in warning
    assert "ATTN_MINIAPP_SHORT_NAME" in warning


def test_nothing_to_report_when_the_links_work_or_the_web_is_off() -> None:
    assert missing_main_app(MiniAppRoute(None, PAGE), bot_user(True)) is None
    assert missing_main_app(MiniAppRoute("checkin", PAGE), bot_user(False)) is None
    assert missing_main_app(None, bot_user(False)) is None
    assert missing_main_app(MiniAppRoute(None, PAGE), bot_user(None)) is None  # not said
