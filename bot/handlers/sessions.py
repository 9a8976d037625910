"""Teacher commands that open and close sessions."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.context import AttnContext
from bot.handlers.common import message_of
from services.sessions import parse_minutes


async def start_session_command(update: Update, context: AttnContext) -> None:
    """/start_session [minutes] [title]"""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    await context.services.roles.require_teacher(user.id)
    args = list(context.args or [])
    minutes = parse_minutes(args.pop(0)) if args and args[0].isdigit() else None
    session = await context.services.sessions.start_session(
        user.id, chat.id, minutes, " ".join(args)
    )
    await message_of(update).reply_text(replies.session_started(session, context.tz))


async def end_session_command(update: Update, context: AttnContext) -> None:
    """/end_session"""
    user = update.effective_user
    assert user is not None
    session = await context.services.sessions.end_session(user.id)
    await message_of(update).reply_text(replies.session_ended(session))
