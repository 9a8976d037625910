"""Excuse requests between the student and the teacher: shared by /excuse's handlers and the
answer to its reason prompt (a text, handled with the other plain texts), so it lives
outside the handlers."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.prompts import PendingAction
from bot.replies import excuses as replies
from bot.replying import message_of, respond
from bot.telegram_limits import checked_keyboard
from bot.text import speaking, t
from services.errors import InvalidArgument
from services.excuses import NotExcusable
from services.models import Course, UserProfile
from services.ports.excuses import Attachment, DocumentKind, ExcuseRequest

log = logging.getLogger(__name__)

#: A document an excuse may carry: a PDF or a picture sent as a file.
_DOCUMENT_TYPES = re.compile(r"application/pdf|image/[a-z0-9.+-]+", re.ASCII)


def decision_buttons(request_id: int) -> InlineKeyboardMarkup:
    """Approve / Decline under the teacher's card (`xd:<a|d>:<request id>`)."""
    return checked_keyboard(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("excuse.button.approve", html=False), callback_data=f"xd:a:{request_id}"
                    ),
                    InlineKeyboardButton(
                        t("excuse.button.decline", html=False), callback_data=f"xd:d:{request_id}"
                    ),
                ]
            ]
        )
    )


async def send_card(
    context: AttnContext, chat_id: int, request: ExcuseRequest, course: Course, student: UserProfile
) -> bool:
    """The request to a teacher, in their language: the photo or PDF (by Telegram's file id,
    the reason as its caption) or a text, with Approve / Decline. False when Telegram would
    not take it (the teacher never opened the bot, blocked it)."""
    with speaking(await recipient_languages(context).of(chat_id)):
        text = replies.card(request, course, student.display_name, context.tz)
        markup = decision_buttons(request.id)
    attachment = request.attachment
    try:
        if attachment is None:
            await context.bot.send_message(chat_id, text, reply_markup=markup)
        elif attachment.kind == DocumentKind.PHOTO:
            await context.bot.send_photo(
                chat_id, attachment.file_id, caption=text, reply_markup=markup
            )
        else:
            await context.bot.send_document(
                chat_id, attachment.file_id, caption=text, reply_markup=markup
            )
    except TelegramError as exc:
        log.warning("excuse request %d not delivered to %d: %s", request.id, chat_id, exc)
        return False
    return True


async def tell_student(context: AttnContext, request: ExcuseRequest, course: Course) -> None:
    """The decision, to the student in their language (not told if they blocked the bot)."""
    with speaking(await recipient_languages(context).of(request.student_id)):
        text = replies.decision_notice(request, course, context.tz)
    try:
        await context.bot.send_message(request.student_id, text)
    except TelegramError as exc:
        log.info("excuse decision %d not delivered: %s", request.id, exc)


async def submit_excuse(
    update: Update,
    context: AttnContext,
    session_id: str,
    reason: str,
    attachment: Attachment | None = None,
) -> None:
    """Store the request, send it to the course's teacher and tell the student. A reason too
    long keeps the prompt open (they send it again, shorter)."""
    user = update.effective_user
    assert user is not None
    try:
        submitted = await context.services.excuses.submit(user.id, session_id, reason, attachment)
    except InvalidArgument:
        await context.services.users.expect_reply(user.id, PendingAction.EXCUSE, session_id)
        respond(context, update, replies.too_long())
        return
    except NotExcusable as error:
        respond(context, update, replies.refused(error))
        return
    delivered = False
    for teacher_id in submitted.deciders:
        sent = await send_card(
            context, teacher_id, submitted.request, submitted.course, submitted.student
        )
        delivered = delivered or sent
    text = replies.sent(submitted.request, submitted.course, context.tz, delivered=delivered)
    respond(context, update, text)


def _attachment(update: Update) -> Attachment | None:
    """The photo (its largest size) or the PDF / picture file of the message, else None."""
    message = message_of(update)
    if message.photo:
        return Attachment(message.photo[-1].file_id, DocumentKind.PHOTO)
    document = message.document
    if document is not None and _DOCUMENT_TYPES.fullmatch(document.mime_type or ""):
        return Attachment(document.file_id, DocumentKind.DOCUMENT)
    return None


async def answer_with_media(update: Update, context: AttnContext) -> bool:
    """A photo or a file that answers /excuse's question (its caption the reason): True
    when one was pending, whatever came of it; False leaves the message to others (a
    teacher's roster file). A wrong file or a missing caption keeps the question open."""
    user = update.effective_user
    assert user is not None
    expected = await context.services.users.take_expected_reply(user.id, (PendingAction.EXCUSE,))
    if expected is None:
        return False
    session_id = expected[1]
    attachment = _attachment(update)
    caption = (message_of(update).caption or "").strip()
    if attachment is None or not caption:
        await context.services.users.expect_reply(user.id, PendingAction.EXCUSE, session_id)
        key = "excuse.wrong_file" if attachment is None else "excuse.need_caption"
        respond(context, update, t(key))
        return True
    await submit_excuse(update, context, session_id, caption, attachment)
    return True
