"""Teacher commands that open and close sessions."""

from __future__ import annotations

from telegram import Update

from bot import keyboards, replies
from bot.context import AttnContext
from bot.handlers.common import message_of
from services.courses import match_course
from services.models import Course
from services.sessions import clean_title, parse_minutes


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
    minutes = parse_minutes(args.pop(0)) if args and args[0].isdigit() else None
    title = clean_title(" ".join(args))
    if course is None and len(courses) == 1:
        course = courses[0]
    elif course is None and len(courses) > 1:
        await message_of(update).reply_text(
            replies.CHOOSE_COURSE, reply_markup=keyboards.course_choice(courses, minutes, title)
        )
        return
    session = await services.sessions.start_session(user.id, chat.id, minutes, title, course)
    await message_of(update).reply_text(replies.session_started(session, context.tz))


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
    await query.edit_message_text(replies.session_started(session, context.tz))


async def end_session_command(update: Update, context: AttnContext) -> None:
    """/end_session"""
    user = update.effective_user
    assert user is not None
    session = await context.services.sessions.end_session(user.id)
    await message_of(update).reply_text(replies.session_ended(session))
