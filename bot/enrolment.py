"""Joining a course, giving one's name and claiming a place on an imported roster: shared by
/join, /register, the course invite deep link and the answers to "what is your name" and
"what is your student number", so it lives outside the handlers."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import replies
from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.prompts import PendingAction
from bot.replies import roster as roster_replies
from bot.replying import profile_of, respond, send_later
from services.course_access import Permission
from services.courses import Enrolment
from services.errors import InvalidArgument
from services.places import ClaimResult


async def reply_enrolment(update: Update, context: AttnContext, enrolment: Enrolment) -> None:
    """Confirm the enrolment; ask for the student's name if we do not have it yet, or for
    their student number when the course has an imported roster."""
    user = update.effective_user
    assert user is not None
    if enrolment.needs_number:
        await context.services.users.expect_reply(
            user.id, PendingAction.CLAIM, str(enrolment.course.id)
        )
        respond(context, update, roster_replies.ask_number(enrolment.course))
        return
    respond(context, update, replies.joined(enrolment))
    if enrolment.needs_name:
        await context.services.users.expect_reply(user.id, PendingAction.REGISTER)
        respond(context, update, replies.ASK_FOR_NAME)


async def register_from_words(update: Update, context: AttnContext, words: list[str]) -> None:
    """Register "<full name> [student number]": a last word with a digit is the number."""
    user = update.effective_user
    assert user is not None
    args = list(words)
    number = args.pop() if len(args) > 1 and any(ch.isdigit() for ch in args[-1]) else None
    profile = await context.services.users.register(profile_of(user), " ".join(args), number)
    assert profile.full_name is not None
    respond(context, update, replies.registered(profile.full_name, profile.student_number))


async def claim_from_text(update: Update, context: AttnContext, payload: str, text: str) -> None:
    """The student number answering "send me your student number": the place is theirs, or
    the teacher is asked (with Approve / Decline buttons). A malformed number asks again."""
    user = update.effective_user
    assert user is not None
    if not payload.isascii() or not payload.isdigit():
        return
    try:
        claim = await context.services.roster.claim(profile_of(user), int(payload), text)
    except InvalidArgument:
        await context.services.users.expect_reply(user.id, PendingAction.CLAIM, payload)
        raise
    respond(context, update, roster_replies.claim_result(claim))
    request = claim.request
    if claim.result is ClaimResult.CLAIMED or request is None:
        return
    student = profile_of(user).display_name
    access = context.services.access
    course = claim.course
    for teacher_id in dict.fromkeys([course.teacher_id, *await access.staff_ids(course)]):
        if not await access.may(teacher_id, course, Permission.MANAGE):
            continue  # assistants do not manage the roster
        language = await recipient_languages(context).of(teacher_id)
        question = roster_replies.claim_request(request, course, student, claim.result, language)
        markup = roster_replies.claim_buttons(request.id, language)
        send_later(context, update, _ask(context, teacher_id, question, markup))


async def _ask(context: AttnContext, chat_id: int, text: str, markup: InlineKeyboardMarkup) -> None:
    """A claim to one who may decide it (the first tap decides); one who blocked the bot
    is not told."""
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(chat_id, text, reply_markup=markup)
