"""/settings: one message with buttons that change the user's preferences and edit it in place.

Button data is `st:<what>:<value>` (≤ 64 bytes); every press is checked again here, so a forged
button changes nothing it could not change through the buttons shown.
"""

from __future__ import annotations

import contextlib
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.commands import Command, Role, commands_of
from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.menus import set_user_commands
from bot.replying import respond
from bot.text import Text, available_languages, join, pick_language, t, use_language
from services.errors import InvalidArgument

_BUTTON = re.compile(r"st:(lang):([a-z]{2,8}|-)")
#: Telegram's limit on a button's data.
MAX_DATA_BYTES = 64


def _data(*parts: str) -> str:
    data = ":".join(("st", *parts))
    assert len(data.encode()) <= MAX_DATA_BYTES, data
    return data


def _language_name(language: str) -> str:
    return str(t("language.name", language=language, html=False))


def _label(name: str, chosen: bool) -> str:
    """A button's text, marked when it is the current choice."""
    return str(t("settings.chosen", name=name, html=False)) if chosen else name


def _text(choice: str | None, language_code: str | None) -> Text:
    shown = pick_language(choice, language_code)
    name = _language_name(shown)
    if choice is None:
        line = t("settings.language_from_telegram", name=name)
    else:
        line = t("settings.language", name=name)
    return join([t("settings.title"), line])


def _keyboard(choice: str | None) -> InlineKeyboardMarkup:
    languages = [
        InlineKeyboardButton(
            _label(_language_name(code), code == choice), callback_data=_data("lang", code)
        )
        for code in available_languages()
    ]
    rows = [languages[i : i + 2] for i in range(0, len(languages), 2)]
    follow = _label(str(t("settings.telegram_language_button", html=False)), choice is None)
    rows.append([InlineKeyboardButton(follow, callback_data=_data("lang", "-"))])
    return InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: AttnContext) -> None:
    """/settings: the user's preferences, each a button away."""
    user = update.effective_user
    assert user is not None
    choice = context.visit.language if context.visit is not None else None
    if choice not in available_languages():
        choice = None
    respond(context, update, _text(choice, user.language_code), reply_markup=_keyboard(choice))


async def settings_button(update: Update, context: AttnContext) -> None:
    """A settings button: save the choice, then show the message again, changed."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    data = query.data or ""
    pressed = _BUTTON.fullmatch(data) if len(data.encode()) <= MAX_DATA_BYTES else None
    if pressed is None:
        raise InvalidArgument("settings", "button")
    value = pressed[2]
    choice = None if value == "-" else value
    if choice is not None and choice not in available_languages():
        raise InvalidArgument("settings", "button")
    await context.services.users.set_language(user.id, choice)
    recipient_languages(context).forget(user.id)  # jobs writing to them use it at once
    services = context.services
    # A teacher's own menu is in their language: set it again (nothing to do for a student).
    await set_user_commands(
        context.bot, commands_of(context.application), services.roles, services.users, user.id
    )
    use_language(pick_language(choice, user.language_code))  # this reply speaks it already
    await query.answer(str(t("settings.saved", html=False)))
    with contextlib.suppress(BadRequest):  # "not modified": the same button pressed twice
        await query.edit_message_text(
            _text(choice, user.language_code), reply_markup=_keyboard(choice)
        )


COMMANDS: tuple[Command, ...] = (Command("settings", settings_command, Role.EVERYONE),)
