"""The student's check-in, by command or as the answer to "/checkin" alone."""

from __future__ import annotations

import contextlib

from telegram import Chat, ReplyKeyboardRemove, Update
from telegram.error import Forbidden, TelegramError

from bot import replies
from bot.context import AttnContext
from bot.handlers.common import message_of, register_from_words, respond, send_later
from bot.handlers.courses import REGISTER_ACTION
from bot.handlers.sessions import GEO_ANCHOR_ACTION, ask_for_location
from bot.metrics import metrics_of
from services.models import CheckInOutcome

CHECKIN_ACTION = "checkin"
GEO_CHECKIN_ACTION = "geo_checkin"


async def checkin_command(update: Update, context: AttnContext) -> None:
    """/checkin CODE, or /checkin alone to be asked for the code."""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    if not args:
        await context.services.users.expect_reply(user.id, CHECKIN_ACTION)
        send_later(context, update, answer_student(context, update, replies.ASK_FOR_CODE))
        return
    await reply_check_in(update, context, "".join(args))


async def reply_check_in(
    update: Update, context: AttnContext, code: str, session_id: str | None = None
) -> None:
    """Check in (typed code, or a scanned QR naming the session) and answer."""
    user = update.effective_user
    assert user is not None
    result = await context.services.sessions.check_in(
        user.id, code, context.locked_until, session_id
    )
    metrics_of(context.application).checkin(result.outcome)
    if result.outcome is CheckInOutcome.NEEDS_LOCATION and result.session_id:
        await ask_for_location(
            update,
            context,
            GEO_CHECKIN_ACTION,
            replies.check_in_result(result, context.tz),
            f"{result.session_id} {''.join(code.split())}",
        )
        return
    # Recorded: the answer goes out in the background, so the next check-in never waits for
    # Telegram (or for the flood limiter) to take this one.
    text = replies.check_in_result(result, context.tz)
    send_later(context, update, answer_student(context, update, text))


async def answer_student(context: AttnContext, update: Update, text: str) -> None:
    """Answer a student: in their private chat; from a group, privately too (a code or a
    name is never echoed into a group), with a short pointer in the group if that fails."""
    user, chat, message = update.effective_user, update.effective_chat, message_of(update)
    assert user is not None and chat is not None
    if chat.type == Chat.PRIVATE:
        await message.reply_text(text)
        return
    with contextlib.suppress(TelegramError):
        await message.delete()  # their message carries the code: keep it out of the group
    try:
        await context.bot.send_message(user.id, text)
    except Forbidden:
        await context.bot.send_message(chat.id, replies.PRIVATE_REPLY_FAILED)


async def location_message(update: Update, context: AttnContext) -> None:
    """A shared location: the classroom's (teacher) or a student's for a location check."""
    user, message = update.effective_user, message_of(update)
    assert user is not None and message.location is not None
    expected = await context.services.users.take_expected_reply(user.id)
    action, payload = expected if expected else ("", "")
    location = message.location
    forwarded = message.forward_origin is not None
    if action == GEO_ANCHOR_ACTION:
        await context.services.sessions.set_location(
            user.id, location.latitude, location.longitude, forwarded
        )
        respond(context, update, replies.LOCATION_SET, reply_markup=ReplyKeyboardRemove())
        return
    if action != GEO_CHECKIN_ACTION or " " not in payload:
        respond(context, update, replies.UNEXPECTED_LOCATION, reply_markup=ReplyKeyboardRemove())
        return
    session_id, code = payload.split(" ", 1)
    result = await context.services.sessions.check_in_at(
        user.id,
        session_id,
        code,
        location.latitude,
        location.longitude,
        message.date,
        forwarded,
        context.locked_until,
    )
    metrics_of(context.application).checkin(result.outcome)
    respond(
        context,
        update,
        replies.check_in_result(result, context.tz),
        reply_markup=ReplyKeyboardRemove(),
    )


async def plain_text_message(update: Update, context: AttnContext) -> None:
    """Plain text: a code if we just asked for one, otherwise a hint."""
    user = update.effective_user
    message = message_of(update)
    assert user is not None and message.text is not None
    expected = await context.services.users.take_expected_reply(user.id)
    action = expected[0] if expected else None
    if action == CHECKIN_ACTION:
        await reply_check_in(update, context, message.text)
        return
    if action == REGISTER_ACTION:
        await register_from_words(update, context, message.text.split())
        return
    respond(context, update, replies.PLAIN_TEXT_HINT)
