"""The student's check-in, by command or as the answer to "/checkin" alone."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot import replies
from bot.cards import refresh_cards
from bot.checkins import answer_student, mini_app_button, parse_binding, reply_check_in
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.enrolment import claim_from_text, register_from_words
from bot.excuses import submit_excuse
from bot.metrics import metrics_of
from bot.prompts import PendingAction, location_keyboard
from bot.replying import message_of, respond, send_later
from services.codes import normalize_code
from services.course_access import Permission
from services.errors import InvalidArgument
from services.models import CheckInOutcome


async def checkin_command(update: Update, context: AttnContext) -> None:
    """/checkin [code]: the code, or nothing to be asked for it (the next message is the code)."""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    if not args:
        await context.services.users.expect_reply(user.id, PendingAction.CHECKIN)
        button = mini_app_button(context)
        send_later(context, update, answer_student(context, update, replies.ASK_FOR_CODE, button))
        return
    await reply_check_in(update, context, "".join(args))


async def location_message(update: Update, context: AttnContext) -> None:
    """A shared location: the classroom's (teacher) or a student's for a location check.

    Only a location prompt is consumed here (a pending "send me the code" stays). A teacher
    with an open location-checked session may share the classroom's location at any time,
    prompt or not: an expired prompt must never leave the whole class refused.
    """
    user, message = update.effective_user, message_of(update)
    assert user is not None and message.location is not None
    expected = await context.services.users.take_expected_reply(
        user.id, (PendingAction.GEO_ANCHOR, PendingAction.GEO_CHECKIN)
    )
    action, payload = expected if expected else ("", "")
    location = message.location
    forwarded = message.forward_origin is not None
    if action == PendingAction.GEO_ANCHOR or (
        not action and await teacher_awaits_anchor(context, user.id)
    ):
        session = await context.services.sessions.set_location(
            user.id, location.latitude, location.longitude, forwarded
        )
        respond(context, update, replies.LOCATION_SET, reply_markup=ReplyKeyboardRemove())
        await refresh_cards(context, only=session.id)
        return
    binding = parse_binding(payload) if action == PendingAction.GEO_CHECKIN else None
    if binding is None:
        respond(context, update, replies.UNEXPECTED_LOCATION, reply_markup=ReplyKeyboardRemove())
        return
    session_id, code, bound_at = binding
    result = await context.services.checkins.check_in_at(
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
        await context.services.users.expect_reply(user.id, PendingAction.GEO_CHECKIN, payload)
        respond(context, update, replies.location_not_ready_kept())
        return
    if result.outcome is CheckInOutcome.LOCATION_REFUSED:
        # A forwarded or old location: the reply tells them to share their current one, so
        # the bound code and the share button must still be there when they do (the binding
        # keeps its original time, so this never stretches how long a code stays valid).
        await context.services.users.expect_reply(user.id, PendingAction.GEO_CHECKIN, payload)
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
    """The sender runs sessions (a teacher, or course staff) and their open session checks
    locations."""
    permissions = await context.services.access.permissions(user_id)
    if Permission.RUN_SESSIONS not in permissions:
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
        user.id,
        (
            PendingAction.CHECKIN,
            PendingAction.REGISTER,
            PendingAction.CLAIM,
            PendingAction.EXCUSE,
        ),
    )
    action = expected[0] if expected else None
    if action == PendingAction.CHECKIN:
        await reply_check_in(update, context, message.text)
        return
    if action == PendingAction.REGISTER:
        await register_from_words(update, context, message.text.split())
        return
    if expected is not None and action == PendingAction.EXCUSE:
        await submit_excuse(update, context, expected[1], message.text)
        return
    if action == PendingAction.CLAIM and expected is not None:
        await claim_from_text(update, context, expected[1], message.text)
        return
    respond(context, update, replies.PLAIN_TEXT_HINT)


# The gate asks /checkin's handler first whether it takes an update (bot/gate.py).
COMMANDS: tuple[Command, ...] = (
    Command("checkin", checkin_command, Role.STUDENT, remembers_match=True),
)
