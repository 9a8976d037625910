"""Admin commands: making and removing teachers."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.menus import refresh_commands_of
from bot.replying import respond
from services.roles import INVITE_PREFIX


async def add_teacher_command(update: Update, context: AttnContext) -> None:
    """/add_teacher: a one-time link, valid 24 hours."""
    user = update.effective_user
    assert user is not None
    token = await context.services.roles.invite_teacher(user.id)
    link = f"https://t.me/{context.bot.username}?start={INVITE_PREFIX}{token}"
    respond(context, update, replies.teacher_invite(link))


async def remove_teacher_command(update: Update, context: AttnContext) -> None:
    """/remove_teacher <user id or @username>"""
    user = update.effective_user
    assert user is not None
    await context.services.roles.require_admin(user.id)
    args = context.args or []
    if len(args) != 1:
        respond(context, update, replies.REMOVE_TEACHER_USAGE)
        return
    removed = await context.services.roles.remove_teacher(user.id, args[0])
    respond(context, update, replies.teacher_removed(removed))
    await refresh_commands_of(context, removed)


async def teachers_command(update: Update, context: AttnContext) -> None:
    """/teachers"""
    user = update.effective_user
    assert user is not None
    listing = await context.services.roles.list_teachers(user.id)
    respond(context, update, replies.teachers_list(listing.configured, listing.invited))


COMMANDS: tuple[Command, ...] = (
    Command("add_teacher", add_teacher_command, Role.ADMIN),
    Command("remove_teacher", remove_teacher_command, Role.ADMIN),
    Command("teachers", teachers_command, Role.ADMIN),
)
