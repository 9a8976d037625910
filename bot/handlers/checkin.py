"""The student's check-in, by command or as the answer to "/checkin" alone."""

from __future__ import annotations

from datetime import datetime

from telegram import Chat, ReplyKeyboardRemove, Update

from bot import replies
from bot.context import AttnContext
from bot.handlers.common import message_of, register_from_words, respond, send_later
from bot.handlers.courses import REGISTER_ACTION
from bot.handlers.sessions import GEO_ANCHOR_ACTION, ask_for_location, location_keyboard
from bot.jobs import refresh_cards
from bot.metrics import metrics_of
from bot.private import deliver_privately, hide_message, in_group
from bot.text import join
from services.clock import from_ms, to_ms
from services.codes import normalize_code
from services.errors import InvalidArgument
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
    text = replies.check_in_result(result, context.tz)
    if in_group(update):
        # The code was just posted where everyone can read it: say so, privately.
        text = join([text, replies.CODE_LEAKED_TIP], "")
    if result.outcome is CheckInOutcome.NEEDS_LOCATION and result.session_id:
        # The code was valid just now: bind it to the session until the location arrives,
        # so a rotation meanwhile does not refuse the student.
        payload = binding_payload(result.session_id, code, context.services.sessions.now())
        if await context.services.sessions.classroom_location_missing(result.session_id):
            text = join([text, replies.CLASSROOM_LOCATION_MISSING], "")
        if in_group(update):
            send_later(context, update, hide_message(update))
        await deliver_privately(
            context,
            update,
            lambda _chat: ask_for_location(update, context, GEO_CHECKIN_ACTION, text, payload),
        )
        return
    # Recorded: the answer goes out in the background, so the next check-in never waits for
    # Telegram (or for the flood limiter) to take this one.
    send_later(context, update, answer_student(context, update, text))


def binding_payload(session_id: str, code: str, now: datetime) -> str:
    """ "<session id> <code> <ms>": the session, the code as typed, when it was valid."""
    return f"{session_id} {''.join(code.split())} {to_ms(now)}"


def parse_binding(payload: str) -> tuple[str, str, datetime | None] | None:
    """(session id, code, bound at) from a pending location check-in, or None."""
    parts = payload.split(" ")
    if len(parts) == 3 and parts[2].isascii() and parts[2].isdigit():
        return parts[0], parts[1], from_ms(parts[2])
    if len(parts) == 2:  # a prompt stored before codes were bound: judged again
        return parts[0], parts[1], None
    return None


async def answer_student(context: AttnContext, update: Update, text: str) -> None:
    """Answer a student: in their private chat; from a group, privately too (a code or a
    name is never echoed into a group), with a short pointer in the group if that fails."""
    chat, message = update.effective_chat, message_of(update)
    assert chat is not None
    if chat.type == Chat.PRIVATE:
        await message.reply_text(text)
        return
    await hide_message(update)  # their message carries the code: keep it out of the group
    await deliver_privately(
        context, update, lambda chat_id: context.bot.send_message(chat_id, text)
    )


async def location_message(update: Update, context: AttnContext) -> None:
    """A shared location: the classroom's (teacher) or a student's for a location check.

    Only a location prompt is consumed here (a pending "send me the code" stays). A teacher
    with an open location-checked session may share the classroom's location at any time,
    prompt or not: an expired prompt must never leave the whole class refused.
    """
    user, message = update.effective_user, message_of(update)
    assert user is not None and message.location is not None
    expected = await context.services.users.take_expected_reply(
        user.id, (GEO_ANCHOR_ACTION, GEO_CHECKIN_ACTION)
    )
    action, payload = expected if expected else ("", "")
    location = message.location
    forwarded = message.forward_origin is not None
    if action == GEO_ANCHOR_ACTION or (
        not action and await teacher_awaits_anchor(context, user.id)
    ):
        session = await context.services.sessions.set_location(
            user.id, location.latitude, location.longitude, forwarded
        )
        respond(context, update, replies.LOCATION_SET, reply_markup=ReplyKeyboardRemove())
        await refresh_cards(context, only=session.id)
        return
    binding = parse_binding(payload) if action == GEO_CHECKIN_ACTION else None
    if binding is None:
        respond(context, update, replies.UNEXPECTED_LOCATION, reply_markup=ReplyKeyboardRemove())
        return
    session_id, code, bound_at = binding
    result = await context.services.sessions.check_in_at(
        user.id,
        session_id,
        code,
        location.latitude,
        location.longitude,
        message.date,
        forwarded,
        context.locked_until,
        bound_at,
    )
    metrics_of(context.application).checkin(result.outcome)
    if result.outcome is CheckInOutcome.LOCATION_NOT_READY:
        # Not the student's fault: keep their bound code and let them share again.
        await context.services.users.expect_reply(user.id, GEO_CHECKIN_ACTION, payload)
        respond(context, update, replies.location_not_ready_kept())
        return
    if result.outcome is CheckInOutcome.LOCATION_REFUSED:
        # A forwarded or old location: the reply tells them to share their current one, so
        # the bound code and the share button must still be there when they do (the binding
        # keeps its original time, so this never stretches how long a code stays valid).
        await context.services.users.expect_reply(user.id, GEO_CHECKIN_ACTION, payload)
        respond(
            context,
            update,
            replies.check_in_result(result, context.tz),
            reply_markup=location_keyboard(),
        )
        return
    respond(
        context,
        update,
        replies.check_in_result(result, context.tz),
        reply_markup=ReplyKeyboardRemove(),
    )


async def group_reply_message(update: Update, context: AttnContext) -> None:
    """Plain text in a group that replies to one of the bot's messages (in privacy mode the
    only group text the bot receives): a student answering the group card with the code.

    Handled like "/checkin CODE" from the group: checked in, answered privately (or the
    group's one pointer line), the code's message hidden where the bot may delete it. Text
    that cannot be a code ("thanks", a teacher's remark) is left alone: no attempt counted,
    no message deleted, nothing said.
    """
    message = message_of(update)
    replied = message.reply_to_message
    if (
        message.text is None
        or replied is None
        or replied.from_user is None
        or replied.from_user.id != context.bot.id
    ):
        return
    try:
        normalize_code(message.text)
    except InvalidArgument:
        return
    await reply_check_in(update, context, message.text)


async def teacher_awaits_anchor(context: AttnContext, user_id: int) -> bool:
    """The sender is a teacher whose open session checks locations."""
    if not await context.services.roles.is_teacher(user_id):
        return False
    session = await context.services.sessions.open_session(user_id)
    return session is not None and session.geo


async def plain_text_message(update: Update, context: AttnContext) -> None:
    """Plain text: a code if we just asked for one, otherwise a hint. A pending location
    prompt is not consumed by text (the location button stays valid)."""
    user = update.effective_user
    message = message_of(update)
    assert user is not None and message.text is not None
    expected = await context.services.users.take_expected_reply(
        user.id, (CHECKIN_ACTION, REGISTER_ACTION)
    )
    action = expected[0] if expected else None
    if action == CHECKIN_ACTION:
        await reply_check_in(update, context, message.text)
        return
    if action == REGISTER_ACTION:
        await register_from_words(update, context, message.text.split())
        return
    respond(context, update, replies.PLAIN_TEXT_HINT)
