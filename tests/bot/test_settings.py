"""/settings: one message whose buttons change the user's preferences, edited in place."""

from __future__ import annotations

import pytest

from bot.text import t
from bot.text.catalogs import LOCALES
from services.clock import ManualClock
from services.models import Preferences
from tests.bot.test_courses import (
    STUDENTS,
    enrol_all,
    new_course,
    open_session,
    sweep_and_summarise,
)
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

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


def _pressable(bot: BotHarness) -> dict[str, str]:
    markup = bot.request.calls[-1].params["reply_markup"]
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def test_a_teachers_defaults_are_used_by_start_session(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Math")
    [shown] = await bot.send(TEACHER_ID, "/settings")
    default = bot.services.sessions.default_minutes
    assert f"Sessions last {default} min" in shown
    buttons = _pressable(bot)
    await bot.press(TEACHER_ID, buttons["45 min"])
    await bot.press(TEACHER_ID, buttons["New code every 30 s"])
    edit = [c for c in bot.request.calls if c.method == "editMessageText"][-1]
    assert "Sessions last 45 min" in edit.params["text"]
    assert "changes every 30 s" in edit.params["text"]
    marked = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "✓ 45 min" in marked and "✓ New code every 30 s" in marked

    await bot.send(TEACHER_ID, "/start_session")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert (session.ends_at - session.started_at).total_seconds() == 45 * 60
    assert session.rotation_seconds == 30
    await bot.send(TEACHER_ID, "/end_session")
    # What is typed still wins over the defaults.
    await bot.send(TEACHER_ID, "/start_session 20 fixed")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.rotation_seconds == 0
    assert (session.ends_at - session.started_at).total_seconds() == 20 * 60


async def test_session_defaults_are_for_teachers_only(bot: BotHarness) -> None:
    [shown] = await bot.send(STUDENT, "/settings")
    assert "Sessions last" not in shown and "Low-attendance warnings: on" in shown
    assert not any(data.startswith(("st:len", "st:rot")) for data in _pressable(bot).values())
    await bot.press(STUDENT, "st:len:45")  # forged: not offered to a student
    await bot.press(STUDENT, "st:len:7")
    await bot.press(TEACHER_ID, "st:len:7")  # not one of the lengths offered
    await bot.press(TEACHER_ID, "st:rot:1")
    assert await bot.services.users.preferences(STUDENT) == Preferences()
    assert await bot.services.users.preferences(TEACHER_ID) == Preferences()


async def test_no_nudge_once_a_student_switches_them_off(
    bot: BotHarness, clock: ManualClock
) -> None:
    _, link = await new_course(bot)
    quiet, nudged = STUDENTS[0], STUDENTS[1]
    await enrol_all(bot, link, [quiet, nudged])
    await bot.send(quiet, "/settings")
    await bot.press(quiet, _pressable(bot)["🔕 Warnings off"])
    assert (await bot.services.users.preferences(quiet)).nudges is False
    for _ in range(4):  # both absent from every session: a nudge is due after the third
        await open_session(bot)
        await bot.send(TEACHER_ID, "/end_session")
        clock.advance(minutes=1)
        await sweep_and_summarise(bot)
        clock.advance(days=1)
    assert sum("Heads-up" in text for text in bot.request.texts(nudged)) == 1
    assert sum("Heads-up" in text for text in bot.request.texts(quiet)) == 0


async def test_mydata_shows_what_settings_stored_in_the_askers_language(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    """/mydata lists the chosen language, the Telegram app's, warnings off and a teacher's
    defaults, in the asker's language; /forgetme deletes the stored preferences."""
    await bot.send(STUDENT, "/settings", language_code="ru")
    await bot.press(STUDENT, _buttons_of(bot)["Español"])
    await bot.send(STUDENT, "/settings", language_code="ru")
    [off] = [label for label in _buttons_of(bot) if "🔕" in label]
    await bot.press(STUDENT, _buttons_of(bot)[off])
    [shown] = await bot.send(STUDENT, "/mydata", language_code="ru")
    assert "Idioma elegido en /settings: Español" in shown, shown
    assert "Idioma de tu aplicación de Telegram: ru" in shown, shown
    assert t("settings.nudges_off", language="es") in shown, shown
    assert t("settings.alerts_on", language="es") in shown, shown
    await bot.send(STUDENT, "/settings", language_code="ru")
    [alerts_off] = [label for label in _buttons_of(bot) if "🔇" in label]
    await bot.press(STUDENT, _buttons_of(bot)[alerts_off])
    [shown] = await bot.send(STUDENT, "/mydata", language_code="ru")
    assert t("settings.alerts_off", language="es") in shown, shown

    await bot.send(TEACHER_ID, "/settings")
    await bot.press(TEACHER_ID, _buttons_of(bot)["45 min"])
    await bot.send(TEACHER_ID, "/settings")
    await bot.press(TEACHER_ID, _buttons_of(bot)["Fixed code"])
    [shown] = await bot.send(TEACHER_ID, "/mydata")
    assert "Your default session length: 45 min" in shown, shown
    assert "Your default check-in code: fixed for the whole session" in shown, shown
    assert "Low-attendance warnings: on" in shown, shown

    assert {r["user_id"] for r in await stored_tables.rows("user_preferences")} == {
        STUDENT,
        TEACHER_ID,
    }
    await bot.send(STUDENT, "/forgetme")
    await bot.press(STUDENT, "fg:yes")
    assert {r["user_id"] for r in await stored_tables.rows("user_preferences")} == {TEACHER_ID}


def _buttons_of(bot: BotHarness) -> dict[str, str]:
    """The buttons of the latest message that has any (menus may be set after it)."""
    call = next(c for c in reversed(bot.request.calls) if "reply_markup" in c.params)
    rows = call.params["reply_markup"]["inline_keyboard"]
    return {b["text"]: b["callback_data"] for row in rows for b in row}
