"""The one error handler (domain errors become short replies, the rest is logged and
excused), and the answers to commands and buttons the bot does not know."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import replies
from bot.context import AttnContext
from bot.metrics import error_kind, metrics_of
from bot.notifier import delivery_failure
from bot.private import deliver_privately, in_group
from bot.replies.staff import not_permitted
from bot.replying import respond
from bot.telegram_limits import alert_text
from bot.text import t
from services.corrections import AmbiguousStudent, NoRoster, SessionBusy, StudentNotFound
from services.course_access import NotPermitted
from services.delivery import DeliveryFailed
from services.errors import (
    DomainError,
    InvalidArgument,
    NoOpenSession,
    NotATeacher,
    NotYours,
    SessionAlreadyOpen,
    StorageUnavailable,
)
from services.roles import NotAnAdmin

log = logging.getLogger(__name__)


def reply_for(error: BaseException, context: AttnContext) -> str | None:
    """The reply for a domain error, or None when the error is unexpected."""
    if isinstance(error, NotYours):  # a teacher, with another teacher's session or course
        return t("error.not_yours.course" if error.what == "course" else "error.not_yours.session")
    if isinstance(error, NotATeacher):
        return replies.NOT_A_TEACHER
    if isinstance(error, NotAnAdmin):
        return replies.NOT_AN_ADMIN
    if isinstance(error, NotPermitted):
        return not_permitted(error)
    if isinstance(error, InvalidArgument):
        return replies.invalid_argument(error)
    if isinstance(error, SessionAlreadyOpen):
        return replies.session_already_open(error, context.tz)
    if isinstance(error, NoOpenSession):
        return replies.NO_OPEN_SESSION
    if isinstance(error, StorageUnavailable):
        return replies.UNAVAILABLE
    if isinstance(error, AmbiguousStudent):
        return replies.ambiguous_student(error.candidates)
    if isinstance(error, StudentNotFound):
        return replies.student_not_found(error.query)
    if isinstance(error, NoRoster):
        return replies.NO_ROSTER
    if isinstance(error, SessionBusy):
        return replies.SESSION_BUSY
    if isinstance(error, DeliveryFailed):  # Telegram did not take what was asked for
        return replies.not_delivered(error)
    return None


async def error_handler(update: object, context: AttnContext) -> None:
    """Answer the user briefly; log unexpected errors with their traceback."""
    error = context.error
    if error is None:
        return
    metrics_of(context.application).error(error_kind(error))
    if isinstance(error, Forbidden):
        # 403: the user blocked the bot (or deleted their account), or the bot left the
        # group. Not a bug, and an apology would only meet the same 403.
        log.warning("a reply could not reach its chat: %s", error.message)
        return
    if isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest):
        # A reply that met Telegram's flood control (429), a time-out or a network error:
        # not a bug (a 400 is one, and stays an unexpected error).
        error = delivery_failure(error)
    text = reply_for(error, context)
    if isinstance(error, StorageUnavailable):
        log.warning("storage unavailable: %s", error)
    elif isinstance(error, DeliveryFailed):  # flood control, a network error: not a bug
        log.warning("Telegram did not take a message: %s", error)
    elif not isinstance(error, DomainError):
        log.error("unexpected error while handling an update", exc_info=error)
        text = replies.UNEXPECTED_ERROR
    if not isinstance(update, Update) or update.effective_chat is None or text is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(alert_text(text), show_alert=True)
        elif in_group(update):  # an error reply can carry a code: privately, like every reply
            await deliver_privately(
                context, update, lambda chat_id: context.bot.send_message(chat_id, text)
            )
        else:
            await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        log.warning("could not send the error reply", exc_info=True)


async def unknown_command(update: Update, context: AttnContext) -> None:
    respond(context, update, replies.UNKNOWN_COMMAND)


async def unknown_button(update: Update, context: AttnContext) -> None:
    """A button we do not (or no longer) know, e.g. forged data: answer so the client stops."""
    query = update.callback_query
    assert query is not None
    await query.answer(replies.BAD_BUTTON, show_alert=True)
