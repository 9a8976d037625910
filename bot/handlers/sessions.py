"""Teacher commands that open and close sessions."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, InputFile, KeyboardButton, ReplyKeyboardMarkup, Update

from bot import keyboards, replies
from bot.card import parse_card_data, qr_png, render_card
from bot.context import AttnContext
from bot.handlers.common import respond
from bot.jobs import refresh_cards
from services.courses import match_course
from services.models import CardState, Course, Session
from services.numbers import looks_like_number
from services.qr import checkin_link
from services.sessions import clean_title, parse_extension, parse_minutes, parse_rotation


async def start_session_command(update: Update, context: AttnContext) -> None:
    """/start_session [course] [minutes] [title]

    With one course it is the default; with several and none named, the teacher picks one
    from buttons.
    """
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    await services.roles.require_teacher(user.id)
    args = list(context.args or [])
    courses = await services.courses.teacher_courses(user.id)
    course: Course | None = None
    matched = match_course(courses, args) if args else None
    if matched is not None:
        course, used = matched
        args = args[used:]
    minutes = parse_minutes(args.pop(0)) if args and looks_like_number(args[0]) else None
    options = parse_session_options(args)
    title = clean_title(" ".join(args))
    if course is None and len(courses) == 1:
        course = courses[0]
    elif course is None and len(courses) > 1:
        respond(
            context,
            update,
            replies.CHOOSE_COURSE,
            reply_markup=keyboards.course_choice(courses, minutes, title),
        )
        return
    session = await services.sessions.start_session(
        user.id, chat.id, minutes, title, course, options.rotation, options.geo
    )
    await post_card(context, chat, session)
    if session.geo:
        await ask_for_location(update, context, GEO_ANCHOR_ACTION, replies.ASK_TEACHER_LOCATION)


GEO_ANCHOR_ACTION = "geo_anchor"


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


async def ask_for_location(
    update: Update, context: AttnContext, action: str, text: str, payload: str = ""
) -> None:
    """Ask for a location with Telegram's share-location button; the answer is expected."""
    user = update.effective_user
    assert user is not None
    await context.services.users.expect_reply(user.id, action, payload)
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(replies.SHARE_LOCATION_BUTTON, request_location=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=keyboard)


async def choose_course_button(update: Update, context: AttnContext) -> None:
    """The teacher picked the course of a new session from the buttons."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    choice = keyboards.parse_start_choice(query.data or "")
    if choice is None:
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    course_id, minutes, title = choice
    course = await context.services.courses.course_for_teacher(user.id, course_id)
    session = await context.services.sessions.start_session(
        user.id, chat.id, minutes, title, course
    )
    await query.answer()
    await query.delete_message()
    await post_card(context, chat, session)


async def post_card(context: AttnContext, chat: Chat, session: Session) -> None:
    """Post the session's live card in `chat`: in a private chat a QR photo with the code,
    count, time left and buttons; in a group the same without code or QR."""
    state = CardState(session, 0)
    in_group = chat.type != Chat.PRIVATE
    view = render_card(state, session.started_at, context.tz, context.bot.username, in_group)
    if in_group:
        message = await context.bot.send_message(chat.id, view.text, reply_markup=view.keyboard)
    else:
        link = checkin_link(context.bot.username, session.id, session.code)
        message = await context.bot.send_photo(
            chat.id,
            InputFile(qr_png(link), filename="checkin.png"),
            caption=view.text,
            reply_markup=view.keyboard,
        )
    await context.services.sessions.attach_card(
        session, chat.id, message.message_id, view.fingerprint
    )


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
        await query.answer("Session ended. The summary follows.")
    elif action == "ext":
        session = await sessions.extend_session(user.id, 5, session_id)
        await query.answer(replies.extended(session, context.tz)[:200])
    elif action == "miss":
        missing = await sessions.missing_students(user.id, session_id)
        await query.answer()
        await context.bot.send_message(user.id, replies.missing_list(missing))
    else:
        present = await sessions.checked_in_students(user.id, session_id)
        await query.answer()
        await context.bot.send_message(user.id, replies.present_list(present, context.tz))
    if action in ("end", "ext"):
        await refresh_cards(context, only=session_id)
