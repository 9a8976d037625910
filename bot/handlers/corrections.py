"""/mark: a teacher corrects one student's status."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.replying import respond
from services.corrections import STATUS_WORDS


def parse_mark_args(args: list[str]) -> tuple[str, str, str | None] | None:
    """(student, status, session id or None) from `<student...> <status> [session]`."""
    if len(args) >= 2 and args[-1].lower() in STATUS_WORDS:
        return " ".join(args[:-1]), args[-1], None
    if len(args) >= 3 and args[-2].lower() in STATUS_WORDS:
        return " ".join(args[:-2]), args[-2], args[-1]
    return None


async def mark_command(update: Update, context: AttnContext) -> None:
    """/mark <student> <present|late|excused|absent> [session]"""
    user = update.effective_user
    assert user is not None
    await context.services.roles.require_teacher(user.id)
    parsed = parse_mark_args(list(context.args or []))
    if parsed is None:
        respond(context, update, replies.MARK_USAGE)
        return
    student, status, session_id = parsed
    correction = await context.services.corrections.mark(user.id, student, status, session_id)
    respond(context, update, replies.corrected(correction))


COMMANDS: tuple[Command, ...] = (Command("mark", mark_command, Role.TEACHER),)
