"""With the web on, the QR codes are `t.me/<bot>?startapp=` links only when they open a Mini
App: the bot has a main one in @BotFather (getMe's `has_main_web_app`) or a named one is
configured. Without one Telegram would open the chat and drop the code, so the links are the
chat's (`?start=`), and the operator is told at start how to turn the Mini App on."""

from __future__ import annotations

import pytest
from telegram import User

from bot.cards import MiniAppRoute, missing_main_app, opens_mini_app

pytestmark = pytest.mark.unit
PAGE = "https://attn.example.edu/miniapp"


def bot_user(has_main_web_app: bool | None) -> User:
    return User(123456, "ATTN", True, username="attn_test_bot", has_main_web_app=has_main_web_app)


def test_a_bot_without_a_main_mini_app_is_reported_with_the_fix() -> None:
    warning = missing_main_app(MiniAppRoute(None, PAGE), bot_user(False))
    assert warning is not None
    assert "t.me/attn_test_bot?start=" in warning and "which checks in" in warning
    assert "Configure Mini App" in warning and PAGE in warning
    assert "ATTN_MINIAPP_SHORT_NAME" in warning
    # Not said by getMe (an older Bot API server): the chat links, and the same word.
    assert missing_main_app(MiniAppRoute(None, PAGE), bot_user(None)) == warning


def test_nothing_to_report_when_the_links_work_or_the_web_is_off() -> None:
    assert missing_main_app(MiniAppRoute(None, PAGE), bot_user(True)) is None
    assert missing_main_app(MiniAppRoute("checkin", PAGE), bot_user(False)) is None
    assert missing_main_app(None, bot_user(False)) is None


def test_the_links_open_the_mini_app_only_when_there_is_one() -> None:
    assert opens_mini_app(MiniAppRoute(None, PAGE), bot_user(True))
    assert opens_mini_app(MiniAppRoute("checkin", PAGE), bot_user(False))
    assert not opens_mini_app(MiniAppRoute(None, PAGE), bot_user(False))
    assert not opens_mini_app(MiniAppRoute(None, PAGE), bot_user(None))
    assert not opens_mini_app(None, bot_user(True))
