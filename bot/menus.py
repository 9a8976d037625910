"""Telegram command menus per role: students by default, teachers and admins per chat."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot import replies
from services.roles import RoleService

log = logging.getLogger(__name__)


def _commands(is_teacher: bool, is_admin: bool) -> list[BotCommand]:
    return [
        BotCommand(name, text[:256]) for name, text in replies.commands_for(is_teacher, is_admin)
    ]


async def set_default_commands(bot: Bot) -> None:
    """The menu everyone sees unless their private chat has its own."""
    await bot.set_my_commands(_commands(False, False), scope=BotCommandScopeDefault())


async def set_user_commands(bot: Bot, roles: RoleService, user_id: int) -> None:
    """Give one user the menu of their current role in their private chat."""
    is_admin = await roles.is_admin(user_id)
    is_teacher = await roles.is_teacher(user_id)
    scope = BotCommandScopeChat(user_id)
    try:
        if is_teacher or is_admin:
            await bot.set_my_commands(_commands(is_teacher, is_admin), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError:
        # A user who never opened a chat with the bot has no private chat to scope to.
        log.info("could not set the command menu of user %s", user_id)


async def set_all_commands(bot: Bot, roles: RoleService, user_ids: list[int]) -> None:
    """At start-up: the default menu, then each teacher's and admin's own."""
    await set_default_commands(bot)
    for user_id in user_ids:
        await set_user_commands(bot, roles, user_id)
