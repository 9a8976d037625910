"""/cancel: stop waiting for the answer to a prompt (a code, a name, a location)."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.replying import respond


async def cancel_command(update: Update, context: AttnContext) -> None:
    """/cancel: the pending prompt is dropped, so the next text is not taken as its answer;
    a share-location keyboard goes away with the reply (answers always go to the private
    chat, where the keyboard is)."""
    user = update.effective_user
    assert user is not None
    pending = await context.services.users.take_expected_reply(user.id)
    text = replies.CANCELLED if pending is not None else replies.NOTHING_TO_CANCEL
    respond(context, update, text, reply_markup=ReplyKeyboardRemove())


COMMANDS: tuple[Command, ...] = (Command("cancel", cancel_command, Role.EVERYONE),)
