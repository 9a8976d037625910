"""Joining a course and giving one's name: shared by /join, /register, the course invite
deep link and the answer to "what is your name", so it lives outside the handlers."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.context import AttnContext
from bot.prompts import PendingAction
from bot.replying import profile_of, respond
from services.courses import Enrolment


async def reply_enrolment(update: Update, context: AttnContext, enrolment: Enrolment) -> None:
    """Confirm the enrolment; ask for the student's name if we do not have it yet."""
    user = update.effective_user
    assert user is not None
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
