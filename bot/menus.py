"""Telegram command menus per role and language: students by default, teachers and admins per
chat, and the group menu; with the bot's description and short description.

Telegram picks a menu by the user's app language among those set with `language_code` (the
menu set without one serves every other language): the default and group menus, and the
descriptions, are set once per language we have. A teacher's own menu (their private chat) is
set in their language, and set again when it changes (its version is its text).

A chat-scoped menu can only be set once the user has a private chat with the bot (Telegram
answers "chat not found" before), so it is set at start-up for those who have one, and then
whenever a user comes back (the first message of a visit) or their role changes. The version
set is remembered per user, so each menu is sent once per role and version, not per message.
"""

from __future__ import annotations

import hashlib
import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError

from bot.commands import Registry, commands_of
from bot.context import AttnContext
from bot.text import available_languages, default_language, pick_language, t
from services.course_access import CourseAccess, Permission
from services.users import UserService

log = logging.getLogger(__name__)


def _commands(
    commands: Registry,
    is_teacher: bool,
    is_admin: bool,
    language: str | None = None,
    staff: frozenset[Permission] = frozenset(),
) -> list[BotCommand]:
    return commands.menu(is_teacher=is_teacher, is_admin=is_admin, language=language, staff=staff)


#: The group menu: what a class does in its group (a teacher starts the session there).
GROUP_MENU = ("checkin", "start_session", "end_session", "extend", "help")


def menu_languages() -> tuple[str, ...]:
    """The languages a menu is set for: ours that Telegram takes as a `language_code` (two
    letters); "" first, the menu of every other language (in the installation's default)."""
    return ("", *(lang for lang in available_languages() if len(lang) == 2 and lang.isalpha()))


# Remembered for a user whose menu Telegram refused (no private chat yet): one is owed.
NOT_SET = "not-set"


def menu_version(
    commands: Registry,
    is_teacher: bool,
    is_admin: bool,
    language: str | None = None,
    staff: frozenset[Permission] = frozenset(),
) -> str | None:
    """What identifies a role's menu (None: the default one); changes when its commands or
    their words (another language) do. Course staff who are not teachers have a menu of
    the teacher commands their roles allow."""
    if not (is_teacher or is_admin or staff):
        return None
    listing = "\n".join(
        f"{c.command} {c.description}"
        for c in _commands(commands, is_teacher, is_admin, language, staff)
    )
    digest = hashlib.sha256(listing.encode()).hexdigest()[:12]
    kind = "admin" if is_admin else "teacher" if is_teacher else "staff"
    return f"{kind}:{digest}"


async def set_default_commands(bot: Bot, commands: Registry) -> None:
    """The menus everyone sees unless their private chat has its own (private chats, groups)
    and the bot's descriptions, in every language."""
    for code in menu_languages():
        language = code or default_language()
        await bot.set_my_commands(
            _commands(commands, False, False, language),
            scope=BotCommandScopeDefault(),
            language_code=code or None,
        )
        await bot.set_my_commands(
            commands.group_menu(GROUP_MENU, language=language),
            scope=BotCommandScopeAllGroupChats(),
            language_code=code or None,
        )
        await bot.set_my_description(
            t("bot.description", html=False, language=language), language_code=code or None
        )
        await bot.set_my_short_description(
            t("bot.short_description", html=False, language=language), language_code=code or None
        )


async def set_user_commands(
    bot: Bot,
    commands: Registry,
    access: CourseAccess,
    users: UserService,
    user_id: int,
    *,
    force: bool = False,
) -> bool:
    """Give one user the menu of their current role in their private chat, unless they have it.

    Returns True when Telegram took a change. A user with no private chat yet ("chat not
    found", or blocked) is not an error: their menu is set when they next write.
    """
    is_admin = await access.roles.is_admin(user_id)
    is_teacher = await access.roles.is_teacher(user_id)
    staff = frozenset() if is_teacher else await access.permissions(user_id)
    language = pick_language(*await users.language_of(user_id))
    wanted = menu_version(commands, is_teacher, is_admin, language, staff)
    stored = await users.menu_version(user_id)
    if not force and stored == wanted:
        return False
    scope = BotCommandScopeChat(user_id)
    try:
        if wanted is not None:
            await bot.set_my_commands(
                _commands(commands, is_teacher, is_admin, language, staff), scope=scope
            )
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        log.info("menu of user %s not set yet (%s); set when they write", user_id, exc.message)
        if stored is None and wanted is not None:
            # Remembered as owed, so their next visit tries again (see give_menu_if_due).
            await users.remember_menu(user_id, NOT_SET)
        return False
    await users.remember_menu(user_id, wanted)
    return True


async def give_menu_if_due(
    bot: Bot,
    commands: Registry,
    access: CourseAccess,
    users: UserService,
    user_id: int,
    remembered: str | None = None,
) -> bool:
    """On a user's first private message to this process: their menu, if it is not the one set.

    Why the shortcut: most users are students, who have nothing remembered and are not in
    the settings; they need no menu of their own, and no role look-up in PostgreSQL either.
    Invited teachers and course staff get theirs when they accept (or are remembered as
    owed one). `remembered` is the version read with the update's visit ("" none), so a
    student's first message costs no Redis call here; None: read it now.
    """
    if remembered is None:
        remembered = await users.menu_version(user_id) or ""
    if not remembered and not access.roles.is_configured(user_id):
        return False
    return await set_user_commands(bot, commands, access, users, user_id)


async def set_all_commands(
    bot: Bot, commands: Registry, access: CourseAccess, users: UserService, user_ids: list[int]
) -> None:
    """At start-up: the default menu, then each teacher's and admin's own (when it changed)."""
    await set_default_commands(bot, commands)
    for user_id in user_ids:
        await set_user_commands(bot, commands, access, users, user_id)


class MenuChecks:
    """Which users this process has already given their menu to since it started.

    Why: a user's first private message to this process is when their chat is sure to exist,
    and checking once per process (the Redis memory makes it once overall) keeps the role
    look-up off every other message.
    """

    LIMIT = 100_000

    def __init__(self) -> None:
        self._checked: set[int] = set()

    def first_time(self, user_id: int) -> bool:
        if user_id in self._checked:
            return False
        if len(self._checked) >= self.LIMIT:
            self._checked.clear()
        self._checked.add(user_id)
        return True

    def again(self, user_id: int) -> None:
        """Check this user again at their next message (the last try did not get through)."""
        self._checked.discard(user_id)


async def refresh_commands_of(context: AttnContext, user_id: int) -> None:
    """Role changed: give the user the command menu of their new role."""
    services = context.services
    await set_user_commands(
        context.bot,
        commands_of(context.application),
        services.access,
        services.users,
        user_id,
        force=True,
    )
