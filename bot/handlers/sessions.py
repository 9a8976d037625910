"""Teacher commands that open and close sessions."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from telegram import ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import keyboards, replies
from bot.card import parse_card_data
from bot.cards import CardPublisher, publisher_of, refresh_cards
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.private import open_bot_link, point_group_to_private, unreachable
from bot.prompts import PendingAction, ask_for_location, location_keyboard
from bot.replying import respond
from bot.telegram_limits import alert_text
from services.course_access import Permission, match_course
from services.course_admin import active
from services.errors import NoOpenSession
from services.models import Course, Session
from services.numbers import looks_like_number
from services.session_options import (
    StartOptions,
    clean_title,
    parse_extension,
    parse_minutes,
    parse_rotation,
)

log = logging.getLogger(__name__)


async def start_session_command(update: Update, context: AttnContext) -> None:
    """/start_session [course] [minutes] [title] [geo] [fixed|rotate=N]

    With one course it is the default; with several and none named, the teacher picks one
    from buttons (the other options wait in Redis meanwhile, so they survive the buttons).
    """
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    await services.access.require_any(user.id, Permission.RUN_SESSIONS)
    args = list(context.args or [])
    courses = await services.courses.teacher_courses(user.id, Permission.RUN_SESSIONS)
    course: Course | None = None
    matched = match_course(courses, args) if args else None
    if matched is not None:
        course, used = matched
        args = args[used:]
    minutes = parse_minutes(args.pop(0)) if args and looks_like_number(args[0]) else None
    options = parse_session_options(args)
    title = clean_title(" ".join(args))
    if minutes is None or options.rotation is None:  # the teacher's own defaults (/settings)
        defaults = await services.users.preferences(user.id)
        minutes = defaults.session_minutes if minutes is None else minutes
        if options.rotation is None:
            options.rotation = defaults.rotation_seconds
    start = StartOptions(minutes, title, options.rotation, options.geo, chat.id)
    # A course named outright is matched among all (an archived one is refused with a
    # reason); the default and the buttons offer only active courses.
    courses = active(courses)
    if course is None and len(courses) == 1:
        course = courses[0]
    elif course is None and len(courses) > 1:
        token = await services.sessions.offer_start_choice(user.id, start)
        # From a group the question goes to the teacher privately (like every answer); the
        # card still goes to the group, which the stored choice remembers.
        respond(
            context,
            update,
            replies.choose_course(len(courses), keyboards.COURSES_PER_PAGE),
            reply_markup=keyboards.course_choice_buttons(courses, token),
        )
        return
    await open_session(update, context, course, start, chat.id)


@dataclass
class SessionOptions:
    rotation: int | None = None
    geo: bool = False


def parse_session_options(args: list[str]) -> SessionOptions:
    """Take `geo` (location check) and `rotate=N` / `fixed` (code rotation) out of the words."""
    options = SessionOptions()
    for word in list(args):
        lowered = word.lower()
        if lowered == "geo":
            options.geo = True
        elif lowered == "fixed":
            options.rotation = 0
        elif lowered.startswith("rotate="):
            options.rotation = parse_rotation(lowered[7:])
        else:
            continue
        args.remove(word)
    return options


async def choose_course_button(update: Update, context: AttnContext) -> None:
    """The teacher picked the course of a new session from the buttons.

    The typed options are taken from Redis once: a second tap (or a second device) finds
    nothing and opens nothing.
    """
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    data = query.data or ""
    picked = keyboards.parse_start_token(data)
    if picked is not None:
        course_id, token = picked
        await context.services.access.require_any(user.id, Permission.RUN_SESSIONS)
        start = await context.services.sessions.take_start_choice(user.id, token)
        if start is None:
            await query.answer(replies.CHOICE_USED)
            return
    else:  # a keyboard from before the options were kept in Redis
        legacy = keyboards.parse_start_choice(data)
        if legacy is None:
            await query.answer(replies.BAD_BUTTON, show_alert=True)
            return
        course_id, minutes, title = legacy
        start = StartOptions(minutes, title, chat_id=chat.id)
    course = await context.services.courses.course_for_teacher(
        user.id, course_id, Permission.RUN_SESSIONS
    )
    # Answered after the start: a refusal ("already open") reaches the presser as the
    # button's alert through the error handler, which can answer only once.
    await open_session(update, context, course, start, start.chat_id or chat.id)
    await query.answer()
    with contextlib.suppress(TelegramError):
        await query.delete_message()


async def course_page_button(update: Update, context: AttnContext) -> None:
    """ "more courses ▶" / "◀ previous" on the course question: show that page of the
    teacher's courses (read again, so a course added meanwhile is there too)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    picked = keyboards.parse_start_page(query.data or "")
    if picked is None:
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    page, token = picked
    courses = active(
        await context.services.courses.teacher_courses(user.id, Permission.RUN_SESSIONS)
    )
    await query.answer()
    try:
        await query.edit_message_reply_markup(keyboards.course_choice_buttons(courses, token, page))
    except BadRequest as exc:  # a double tap: the page is shown already
        if "not modified" not in str(exc).lower():
            raise


async def open_session(
    update: Update, context: AttnContext, course: Course | None, start: StartOptions, chat_id: int
) -> None:
    """Open the session (one atomic step decides) and post its card(s) in the chat it was
    started from (a private chat's id is the user's, positive; a group's is negative)."""
    user = update.effective_user
    assert user is not None
    session = await context.services.sessions.start_session(
        user.id, chat_id, start.minutes, start.title, course, start.rotation_seconds, start.geo
    )
    if not CardPublisher.in_group(chat_id):
        await post_card(context, chat_id, session)
    elif not await post_group_session(update, context, chat_id, session):
        return
    if session.geo:
        await ask_for_location(
            update, context, PendingAction.GEO_ANCHOR, replies.ASK_TEACHER_LOCATION
        )


async def post_group_session(
    update: Update, context: AttnContext, chat_id: int, session: Session
) -> bool:
    """A session started in a group: the code card (QR, code, buttons) goes to the teacher
    privately, then the code-less card to the group.

    When the teacher has no private chat with the bot yet, nobody could ever learn the code:
    the session is discarded at once (no record, no summary, the teacher is not blocked) and
    the group gets one line with a link that opens the bot. False then.

    When the group refuses the group card (the bot may not post there, or was removed), the
    session keeps running with the teacher's code card only: it is complete without the
    group card (students check in privately with the projected code or QR), so nothing is
    half-open and nothing needs redoing; the teacher gets one line saying why there is no
    card in the group (never "something went wrong").
    """
    try:
        message_id, view = await publisher_of(context).post(session.teacher_id, session)
    except TelegramError as exc:
        # Whatever the error, the teacher may not have the code: drop the session rather
        # than leave one open that blocks their next start.
        await context.services.sessions.discard_session(session)
        if not unreachable(exc):
            raise
        await point_group_to_private(context, update, per_group_window=False)
        return False
    await context.services.cards.attach_code_card(
        session, session.teacher_id, message_id, view.fingerprint
    )
    try:
        await post_card(context, chat_id, session)
    except TelegramError as exc:
        refused = group_refuses_bot(exc)
        log.warning("session %s: no card in group %s: %s", session.id, chat_id, exc)
        respond(
            context, update, replies.GROUP_REFUSES_CARD if refused else replies.GROUP_CARD_FAILED
        )
    return True


_GROUP_REFUSALS = (
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
    "chat_restricted",
    "chat not found",
    "upgraded",
)


def group_refuses_bot(exc: TelegramError) -> bool:
    """Telegram will not let the bot post in this group: it may not write there (only
    admins may, or the bot is restricted), or it is no longer a member (403 "bot was kicked",
    "bot is not a member"), or the group moved to a supergroup."""
    if isinstance(exc, Forbidden):
        return True
    text = str(exc).lower()
    return isinstance(exc, BadRequest) and any(part in text for part in _GROUP_REFUSALS)


async def post_card(context: AttnContext, chat_id: int, session: Session) -> None:
    """Post the session's live card in the chat (see `CardPublisher.post`) and remember it,
    so the refresh keeps it current."""
    message_id, view = await publisher_of(context).post(chat_id, session)
    await context.services.cards.attach_card(session, chat_id, message_id, view.fingerprint)


async def end_session_command(update: Update, context: AttnContext) -> None:
    """/end_session"""
    user = update.effective_user
    assert user is not None
    session = await context.services.sessions.end_session(user.id)
    respond(context, update, replies.session_ended(session))
    await refresh_cards(context, only=session.id)


async def extend_command(update: Update, context: AttnContext) -> None:
    """/extend [minutes]: more time for the open session (default 5)."""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    minutes = parse_extension(args[0]) if args else 5
    session = await context.services.sessions.extend_session(user.id, minutes)
    respond(context, update, replies.extended(session, context.tz))
    await refresh_cards(context, only=session.id)


async def card_button(update: Update, context: AttnContext) -> None:
    """A press on a session card's button; checked against the session's teacher."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = parse_card_data(query.data or "")
    if parsed is None:
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    action, session_id = parsed
    sessions = context.services.sessions
    if action == "end":
        await sessions.end_session_by_id(user.id, session_id)
        await query.answer(replies.SESSION_ENDED_ALERT)
    elif action == "ext":
        session = await sessions.extend_session(user.id, 5, session_id)
        await query.answer(alert_text(replies.extended(session, context.tz)))
    elif action == "loc":
        session = await sessions.teacher_session(user.id, session_id)
        if not session.geo:
            await query.answer(replies.NOT_A_GEO_SESSION, show_alert=True)
            return
        if not session.is_open(sessions.now()):
            raise NoOpenSession()
        await context.services.users.expect_reply(user.id, PendingAction.GEO_ANCHOR, session.id)
        await answer_privately(
            update,
            context,
            replies.ASK_TEACHER_LOCATION_AGAIN,
            location_keyboard(),
            replies.LOCATION_PROMPT_SENT,
        )
    elif action == "proj" and not context.services.projector.enabled:
        # A card posted before ATTN_PUBLIC_URL was unset: its button leads nowhere now.
        await query.answer(replies.WEB_OFF, show_alert=True)
        return
    elif action == "proj":
        # "New projector link": every link given out before stops working (a student saw
        # the address, the projector PC is shared); the card shows the new one.
        session = await sessions.teacher_session(user.id, session_id)
        if not session.is_open(sessions.now()):
            raise NoOpenSession()
        await context.services.projector.new_link(session)
        await query.answer(replies.PROJECTOR_REPLACED, show_alert=True)
    elif action == "miss":
        missing = await context.services.checkins.missing_students(user.id, session_id)
        await answer_privately(update, context, replies.missing_list(missing))
    else:
        present = await context.services.checkins.checked_in_students(user.id, session_id)
        session = await sessions.teacher_session(user.id, session_id)  # its course's zone
        zone = replies.zone_of(session.time_zone, context.tz)
        await answer_privately(update, context, replies.present_list(present, zone))
    if action in ("end", "ext", "proj"):
        await refresh_cards(context, only=session_id)


async def answer_privately(
    update: Update,
    context: AttnContext,
    text: str,
    markup: ReplyKeyboardMarkup | None = None,
    notice: str | None = None,
) -> None:
    """A card button's answer (names, a location request) goes to the presser's private
    chat, wherever the card is; if the presser never opened the bot, the button's answer
    opens it instead (a t.me/<bot>?start= link, which Telegram allows there)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    try:
        await context.bot.send_message(user.id, text, reply_markup=markup)
    except TelegramError as exc:
        if not unreachable(exc):
            raise
        await query.answer(url=open_bot_link(context.bot.username))
        return
    await query.answer(notice)


COMMANDS: tuple[Command, ...] = (
    Command("start_session", start_session_command, Role.TEACHER, staff=Permission.RUN_SESSIONS),
    Command("end_session", end_session_command, Role.TEACHER, staff=Permission.RUN_SESSIONS),
    Command("extend", extend_command, Role.TEACHER, staff=Permission.RUN_SESSIONS),
)
