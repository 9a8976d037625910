"""A student's check-in and its answer, whichever way the code arrived.

Shared by the /checkin command, the answer to "/checkin" alone, a code typed in reply to
the group card and a scanned QR (the /start deep link), so it lives outside the handlers.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo

from bot import replies
from bot.cards import DASHBOARD_PAGE, MINI_APP_KEY, MINI_APP_PAGE, MiniAppRoute
from bot.context import AttnContext
from bot.gate import take_visit
from bot.metrics import metrics_of
from bot.private import deliver_privately, hide_message, in_group
from bot.prompts import PendingAction, ask_for_location
from bot.replying import message_of, reply_unread, send_later
from bot.text import join, t
from services.clock import from_ms, to_ms
from services.models import CheckInOutcome


async def reply_check_in(
    update: Update, context: AttnContext, code: str, session_id: str | None = None
) -> None:
    """Check in (typed code, or a scanned QR naming the session) and answer."""
    user = update.effective_user
    assert user is not None
    arrival, context.arrival = context.arrival, None
    if arrival is None:
        result = await context.services.checkins.check_in(
            user.id, code, context.locked_until, session_id
        )
    else:  # the gate left the update's visit to this step: both in one round trip
        visit, arrived = await context.services.checkins.check_in_on_arrival(
            arrival.profile, arrival.update_id, code, session_id
        )
        take_visit(update, context, visit)  # a duplicate stops here
        assert arrived is not None
        result = arrived
    metrics_of(context.application).checkin(result.outcome)
    text = replies.check_in_result(result, context.tz)
    if in_group(update):
        # The code was just posted where everyone can read it: say so, privately.
        text = join([text, replies.CODE_LEAKED_TIP], "")
    if result.outcome is CheckInOutcome.NEEDS_LOCATION and result.session_id:
        # The code was valid just now: bind it to the session until the location arrives,
        # so a rotation meanwhile does not refuse the student.
        payload = binding_payload(result.session_id, code, context.services.sessions.now())
        if await context.services.checkins.classroom_location_missing(result.session_id):
            text = join([text, replies.CLASSROOM_LOCATION_MISSING], "")
        if in_group(update):
            send_later(context, update, hide_message(update))
        await deliver_privately(
            context,
            update,
            lambda _chat: ask_for_location(
                update, context, PendingAction.GEO_CHECKIN, text, payload
            ),
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


async def answer_student(
    context: AttnContext,
    update: Update,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Answer a student: in their private chat; from a group, privately too (a code or a
    name is never echoed into a group), with a short pointer in the group if that fails.
    `reply_markup` goes with the private answer only (a Mini App button works only there)."""
    chat, message = update.effective_chat, message_of(update)
    assert chat is not None
    if chat.type == Chat.PRIVATE:
        await reply_unread(message, text, reply_markup)
        return
    await hide_message(update)  # their message carries the code: keep it out of the group
    await deliver_privately(
        context,
        update,
        lambda chat_id: context.bot.send_message(chat_id, text, reply_markup=reply_markup),
    )


def mini_app_button(context: AttnContext) -> InlineKeyboardMarkup | None:
    """With the web on, a button opening the Mini App (Telegram's QR scanner, the answer at
    once): under "send me the code" in the private chat; None when the web is off."""
    route: MiniAppRoute | None = context.application.bot_data.get(MINI_APP_KEY)
    if route is None or route.page_url is None:
        return None
    label = t("miniapp.open_button", html=False)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, web_app=WebAppInfo(url=route.page_url))]]
    )


def dashboard_button(context: AttnContext) -> InlineKeyboardMarkup | None:
    """With the web on, a button opening the teacher dashboard (under /courses, for whoever
    has a role in a course); None when the web is off."""
    route: MiniAppRoute | None = context.application.bot_data.get(MINI_APP_KEY)
    if route is None or route.page_url is None:
        return None
    url = route.page_url.removesuffix(MINI_APP_PAGE) + DASHBOARD_PAGE
    label = t("dashboard.open_button", html=False)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, web_app=WebAppInfo(url=url))]])
