"""Privacy commands: what is stored, show it, forget it."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.replies.roster import mydata_places
from bot.replying import respond
from services.errors import OpenSessionBlocksForget

FORGET_YES = "fg:yes"
FORGET_NO = "fg:no"


async def privacy_command(update: Update, context: AttnContext) -> None:
    respond(context, update, replies.privacy_text(context.services.privacy.retention_days))


async def mydata_command(update: Update, context: AttnContext) -> None:
    user = update.effective_user
    assert user is not None
    data = await context.services.privacy.personal_data(user.id)
    places = await context.services.roster.student_places(user.id)
    respond(context, update, replies.personal_data(data, mydata_places(places)))


async def forgetme_command(update: Update, context: AttnContext) -> None:
    """Ask first; a teacher is told that the role and courses stay, and a teacher whose
    session is open is told to end it first (no buttons then)."""
    user = update.effective_user
    assert user is not None
    session = await context.services.sessions.open_session(user.id)
    if session is not None:
        respond(context, update, replies.forget_refused_open_session(session))
        return
    is_teacher = await context.services.roles.is_teacher(user.id)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(replies.FORGET_YES_BUTTON, callback_data=FORGET_YES),
                InlineKeyboardButton(replies.FORGET_NO_BUTTON, callback_data=FORGET_NO),
            ]
        ]
    )
    respond(context, update, replies.forget_confirm(is_teacher), reply_markup=keyboard)


async def forget_button(update: Update, context: AttnContext) -> None:
    """The answer to /forgetme. Acts only for the presser, on their own data."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    await query.answer()
    if query.data == FORGET_YES:
        try:
            await context.services.privacy.forget(user.id)
        except OpenSessionBlocksForget as refused:  # started one since the question
            await _answer_in_place(query, replies.forget_refused_open_session(refused.session))
            return
        is_teacher = await context.services.roles.is_teacher(user.id)
        await _answer_in_place(query, replies.forgotten(is_teacher))
    else:
        await _answer_in_place(query, replies.FORGET_CANCELLED)


async def _answer_in_place(query: CallbackQuery, text: str) -> None:
    """Replace the question with its answer; a second tap finds it answered already, which
    Telegram calls "message is not modified": nothing went wrong."""
    try:
        await query.edit_message_text(text)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


COMMANDS: tuple[Command, ...] = (
    Command("mydata", mydata_command, Role.EVERYONE),
    Command("forgetme", forgetme_command, Role.EVERYONE),
    Command("privacy", privacy_command, Role.EVERYONE),
)
