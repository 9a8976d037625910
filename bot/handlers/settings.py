"""/settings: one message with buttons that change the user's preferences and edit it in place.

Everyone: the language (each in its own name, or "Telegram's language") and low-attendance
nudges on or off. Teachers also: the length and code rotation /start_session uses when none
is typed. Button data is `st:<what>:<value>` (≤ 64 bytes); every press is checked again here,
so a forged button changes nothing the buttons shown could not.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.commands import Command, Role, commands_of
from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.menus import set_user_commands
from bot.replying import respond
from bot.text import Text, available_languages, join, pick_language, t, use_language
from services.errors import InvalidArgument
from services.models import Preferences

_BUTTON = re.compile(r"st:(lang|nudge|alert|len|rot):([a-z0-9]{1,8}|-)")
#: Telegram's limit on a button's data.
MAX_DATA_BYTES = 64
#: The session lengths (minutes) and code rotations (seconds, 0: fixed) a teacher picks from.
LENGTHS = (10, 15, 30, 45, 60, 90)
ROTATIONS = (0, 30, 60)


def _data(*parts: str) -> str:
    data = ":".join(("st", *parts))
    assert len(data.encode()) <= MAX_DATA_BYTES, data
    return data


def _language_name(language: str) -> str:
    return str(t("language.name", language=language, html=False))


def _label(name: str, chosen: bool) -> str:
    """A button's text, marked when it is the current choice."""
    return str(t("settings.chosen", name=name, html=False)) if chosen else name


def _rotations(context: AttnContext) -> tuple[int, ...]:
    """The rotations on offer: those the installation allows (a code must outlive a card
    refresh, see SessionService.check_rotation)."""
    least = context.services.sessions.min_rotation_seconds
    return tuple(r for r in ROTATIONS if r == 0 or r >= least)


def _rotation_text(seconds: int) -> Text:
    if seconds == 0:
        return t("settings.rotation_fixed")
    return t("settings.rotation_every", seconds=seconds)


def _text(
    context: AttnContext, choice: str | None, code: str | None, prefs: Preferences, teacher: bool
) -> Text:
    name = _language_name(pick_language(choice, code))
    lines = [
        t("settings.title"),
        t("settings.language_from_telegram", name=name)
        if choice is None
        else t("settings.language", name=name),
        t("settings.nudges_on") if prefs.nudges else t("settings.nudges_off"),
        t("settings.alerts_on") if prefs.alerts else t("settings.alerts_off"),
    ]
    if teacher:
        sessions = context.services.sessions
        minutes = prefs.session_minutes or sessions.default_minutes
        rotation = (
            sessions.default_rotation_seconds
            if prefs.rotation_seconds is None
            else prefs.rotation_seconds
        )
        lines += [t("settings.session_length", minutes=minutes), _rotation_text(rotation)]
    return join(lines)


def _keyboard(
    context: AttnContext, choice: str | None, prefs: Preferences, teacher: bool
) -> InlineKeyboardMarkup:
    languages = [
        InlineKeyboardButton(
            _label(_language_name(code), code == choice), callback_data=_data("lang", code)
        )
        for code in available_languages()
    ]
    rows = [languages[i : i + 2] for i in range(0, len(languages), 2)]
    follow = _label(str(t("settings.telegram_language_button", html=False)), choice is None)
    rows.append([InlineKeyboardButton(follow, callback_data=_data("lang", "-"))])
    on = str(t("settings.nudges_on_button", html=False))
    off = str(t("settings.nudges_off_button", html=False))
    rows.append(
        [
            InlineKeyboardButton(_label(on, prefs.nudges), callback_data=_data("nudge", "on")),
            InlineKeyboardButton(
                _label(off, not prefs.nudges), callback_data=_data("nudge", "off")
            ),
        ]
    )
    on = str(t("settings.alerts_on_button", html=False))
    off = str(t("settings.alerts_off_button", html=False))
    rows.append(
        [
            InlineKeyboardButton(_label(on, prefs.alerts), callback_data=_data("alert", "on")),
            InlineKeyboardButton(
                _label(off, not prefs.alerts), callback_data=_data("alert", "off")
            ),
        ]
    )
    if teacher:
        lengths = [
            InlineKeyboardButton(
                _label(
                    str(t("settings.length_button", minutes=m, html=False)),
                    m == prefs.session_minutes,
                ),
                callback_data=_data("len", str(m)),
            )
            for m in LENGTHS
        ]
        rows += [lengths[:3], lengths[3:]]
        rows.append(
            [
                InlineKeyboardButton(
                    _label(
                        str(t("settings.fixed_button", html=False))
                        if r == 0
                        else str(t("settings.rotate_button", seconds=r, html=False)),
                        r == prefs.rotation_seconds,
                    ),
                    callback_data=_data("rot", str(r)),
                )
                for r in _rotations(context)
            ]
        )
    return InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: AttnContext) -> None:
    """/settings: the user's preferences, each a button away."""
    user = update.effective_user
    assert user is not None
    choice = context.visit.language if context.visit is not None else None
    if choice not in available_languages():
        choice = None
    services = context.services
    prefs = await services.users.preferences(user.id)
    teacher = await services.roles.is_teacher(user.id)
    respond(
        context,
        update,
        _text(context, choice, user.language_code, prefs, teacher),
        reply_markup=_keyboard(context, choice, prefs, teacher),
    )


async def settings_button(update: Update, context: AttnContext) -> None:
    """A settings button: save the choice, then show the message again, changed."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    data = query.data or ""
    pressed = _BUTTON.fullmatch(data) if len(data.encode()) <= MAX_DATA_BYTES else None
    if pressed is None:
        raise InvalidArgument("settings", "button")
    what, value = pressed[1], pressed[2]
    services = context.services
    teacher = await services.roles.is_teacher(user.id)
    prefs = await services.users.preferences(user.id)
    choice = context.visit.language if context.visit is not None else None
    if what == "lang":
        choice = None if value == "-" else value
        if choice is not None and choice not in available_languages():
            raise InvalidArgument("settings", "button")
        await services.users.set_language(user.id, choice)
        recipient_languages(context).forget(user.id)  # jobs writing to them use it at once
        # A teacher's own menu is in their language: set it again (nothing for a student).
        await set_user_commands(
            context.bot, commands_of(context.application), services.access, services.users, user.id
        )
        use_language(pick_language(choice, user.language_code))  # this reply speaks it already
    else:
        prefs = _changed(context, prefs, what, value, teacher)
        await services.users.save_preferences(user.id, prefs)
    if choice not in available_languages():
        choice = None
    await query.answer(str(t("settings.saved", html=False)))
    with contextlib.suppress(BadRequest):  # "not modified": the same button pressed twice
        await query.edit_message_text(
            _text(context, choice, user.language_code, prefs, teacher),
            reply_markup=_keyboard(context, choice, prefs, teacher),
        )


def _changed(
    context: AttnContext, prefs: Preferences, what: str, value: str, teacher: bool
) -> Preferences:
    """The preferences after one button, only a value that button could carry."""
    if what == "nudge" and value in ("on", "off"):
        return replace(prefs, nudges=value == "on")
    if what == "alert" and value in ("on", "off"):  # absence alerts and the weekly digest
        return replace(prefs, alerts=value == "on")
    number = int(value) if value.isdigit() else None
    if teacher and what == "len" and number in LENGTHS:
        return replace(prefs, session_minutes=number)
    if teacher and what == "rot" and number in _rotations(context):
        return replace(prefs, rotation_seconds=number)
    raise InvalidArgument("settings", "button")


COMMANDS: tuple[Command, ...] = (Command("settings", settings_command, Role.EVERYONE),)
