"""/settings: one message whose buttons change the user's preferences, edited in place."""

from __future__ import annotations

import pytest

from bot.text import t
from bot.text.catalogs import LOCALES
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

STUDENT = 5001
pytestmark = pytest.mark.skipif(
    not all((LOCALES / f"{lang}.po").exists() for lang in ("ru", "es")),
    reason="needs the Russian and Spanish catalogs",
)


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


async def _check_in_flow(bot: BotHarness, code: str) -> list[str]:
    replies: list[str] = []
    for text in ("/checkin", code, f"/checkin {code}", "hello"):
        replies += await bot.send(STUDENT, text, language_code="ru")
    assert len(replies) == 4
    return replies


def _keyboard(bot: BotHarness) -> list[dict[str, str]]:
    markup = bot.request.calls[-1].params["reply_markup"]
    return [button for row in markup["inline_keyboard"] for button in row]


async def test_a_russian_student_switches_to_spanish(bot: BotHarness) -> None:
    [started] = await bot.send(TEACHER_ID, "/start_session 15 Math")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.code in started

    for reply in await _check_in_flow(bot, session.code):
        assert _cyrillic(reply), reply

    [shown] = await bot.send(STUDENT, "/settings", language_code="ru")
    assert shown.startswith(t("settings.title", language="ru")) and _cyrillic(shown)
    buttons = {b["text"]: b["callback_data"] for b in _keyboard(bot)}
    # Each language in its own name; the Telegram option is checked: nothing chosen yet.
    assert {"English", "Русский", "Español"} <= set(buttons)
    assert "✓ " + t("settings.telegram_language_button", language="ru", html=False) in buttons
    assert all(len(data.encode()) <= 64 for data in buttons.values())

    await bot.press(STUDENT, buttons["Español"])
    [edit] = [c for c in bot.request.calls if c.method == "editMessageText"]
    assert edit.params["text"].startswith(t("settings.title", language="es"))
    assert "Español" in edit.params["text"] and not _cyrillic(edit.params["text"])
    edited = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "✓ Español" in edited

    # From now on Spanish, though the app still says `ru`.
    replies = await _check_in_flow(bot, session.code)
    assert replies[0].startswith(t("checkin.ask_code", language="es"))
    for reply in replies:
        assert not _cyrillic(reply), reply
        assert_valid_telegram_html(reply)
    assert "Ajustes" in (await bot.send(STUDENT, "/settings", language_code="ru"))[0]

    # Back to Telegram's language: Russian again.
    follow = {b["text"]: b["callback_data"] for b in _keyboard(bot)}
    await bot.press(
        STUDENT, follow[t("settings.telegram_language_button", language="es", html=False)]
    )
    assert _cyrillic((await bot.send(STUDENT, "/checkin", language_code="ru"))[0])


@pytest.mark.parametrize(
    "data", ["st:lang:xx", "st:lang:", "st:nope:es", "st:lang:" + "e" * 70, "st:lang:ES"]
)
async def test_a_forged_settings_button_changes_nothing(bot: BotHarness, data: str) -> None:
    await bot.press(STUDENT, data)
    assert not [c for c in bot.request.calls if c.method == "editMessageText"]
    assert (await bot.services.users.language_of(STUDENT))[0] is None


async def test_a_teachers_menu_follows_the_chosen_language(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/settings")
    await bot.press(TEACHER_ID, "st:lang:es")
    menus = [
        c
        for c in bot.request.calls
        if c.method == "setMyCommands"
        and "scope" in c.params
        and c.params["scope"].get("chat_id") == TEACHER_ID
    ]
    described = {cmd["command"]: cmd["description"] for cmd in menus[-1].params["commands"]}
    assert described["settings"] == t("command.settings.about", language="es", html=False)
