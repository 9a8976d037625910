"""/excuse (a student asks to be excused, with a reason and optionally a photo or PDF),
the teacher's Approve / Decline, and /excuses (the requests still waiting)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot.commands import Command, Role
from bot.context import AttnContext
from bot.excuses import answer_with_media, send_card, tell_student
from bot.prompts import PendingAction
from bot.replies import excuses as replies
from bot.replying import edit_in_place, profile_of, respond, respond_with
from bot.telegram_limits import alert_text, checked_keyboard
from bot.text import Text, t
from services.course_access import NotPermitted
from services.errors import InvalidArgument, NotATeacher
from services.excuses import SLOT_PREFIX, AlreadyDecided, ExcuseChoice, NotExcusable
from services.models import Course, UserProfile
from services.ports.excuses import ExcuseRequest, ExcuseState, ExcuseTarget

_STUDENT_STEP = re.compile(r"ex:(c:\d{1,18}|s:[0-9a-f]{12}|t:\d{1,18}:\d{1,12})", re.ASCII)
_DECISION = re.compile(r"xd:([ad]):(\d{1,18})", re.ASCII)
#: /excuses sends at most this many cards at once (the oldest first).
MAX_RESENT = 20


def _course_buttons(courses: list[Course]) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(t("choose.course", name=c.name[:60], html=False), f"ex:c:{c.id}")]
        for c in courses[:50]
    ]
    return checked_keyboard(InlineKeyboardMarkup(rows))


def _choice_data(target: ExcuseTarget) -> str:
    """`ex:s:<session id>`, or `ex:t:<course id>:<start>` for a coming class."""
    if target.session_id.startswith(SLOT_PREFIX):
        return "ex:t:" + target.session_id.removeprefix(SLOT_PREFIX)
    return f"ex:s:{target.session_id}"


def _session_buttons(choices: list[ExcuseChoice], context: AttnContext) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                replies.session_button(c, context.tz), callback_data=_choice_data(c.target)
            )
        ]
        for c in choices
    ]
    return checked_keyboard(InlineKeyboardMarkup(rows))


async def _sessions_step(
    context: AttnContext, user_id: int, course_id: int
) -> tuple[Text, InlineKeyboardMarkup | None]:
    course, choices = await context.services.excuses.choices(user_id, course_id)
    if not choices:
        return t("excuse.no_sessions", course=course.name), None
    return t("excuse.choose_session", course=course.name), _session_buttons(choices, context)


async def excuse_command(update: Update, context: AttnContext) -> None:
    """/excuse: the student's courses (skipped with one), then the sessions to ask about."""
    user = update.effective_user
    assert user is not None
    courses = await context.services.excuses.courses(user.id)
    if not courses:
        respond(context, update, t("excuse.no_courses"))
        return
    if len(courses) == 1:
        text, markup = await _sessions_step(context, user.id, courses[0].id)
        respond(context, update, text, reply_markup=markup)
        return
    respond(context, update, t("excuse.choose_course"), reply_markup=_course_buttons(courses))


async def excuse_button(update: Update, context: AttnContext) -> None:
    """A step of /excuse: a course picked (its sessions), or a session picked (the reason is
    asked for). Both are read back as the presser's own (button data can be forged)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    match = _STUDENT_STEP.fullmatch(query.data or "")
    if match is None:
        await query.answer(t("error.bad_button", html=False), show_alert=True)
        return
    kind, value = match.group(1).split(":", 1)
    if kind == "t":
        value = SLOT_PREFIX + value
    excuses = context.services.excuses
    try:
        if kind == "c":
            text, markup = await _sessions_step(context, user.id, int(value))
            await edit_in_place(update, text, markup)
            return
        target = await excuses.target(user.id, value)
    except NotExcusable as error:
        await query.answer(alert_text(replies.refused(error)), show_alert=True)
        return
    course = next((c for c in await excuses.courses(user.id) if c.id == target.course_id), None)
    await context.services.users.expect_reply(user.id, PendingAction.EXCUSE, target.session_id)
    await edit_in_place(update, replies.ask_reason(target, course, context.tz), None)


async def photo_message(update: Update, context: AttnContext) -> None:
    """A photo in the private chat: the document of an excuse when /excuse asked for one
    (files come through the document handler, which asks `answer_with_media` first);
    otherwise a short hint."""
    if not await answer_with_media(update, context):
        respond(context, update, t("excuse.no_prompt"))


async def _show_decided(update: Update, text: str) -> None:
    """The teacher's card says who decided, without its buttons (a photo's caption, or the
    text); a card that cannot be edited any more is left as it is."""
    query = update.callback_query
    assert query is not None
    message = query.message
    with contextlib.suppress(BadRequest):
        if message is not None and getattr(message, "text", None) is None:
            await query.edit_message_caption(caption=text, reply_markup=None)
        else:
            await query.edit_message_text(text, reply_markup=None)


async def decision_button(update: Update, context: AttnContext) -> None:
    """Approve / Decline: decided once. The record becomes `excused` (audited as a correction
    by this teacher) or stays; the student is told. A second tap, another teacher's tap
    after a decision, a request that is gone, or someone else's each get a short alert."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    match = _DECISION.fullmatch(query.data or "")
    if match is None:
        await query.answer(t("error.bad_button", html=False), show_alert=True)
        return
    approve, request_id = match.group(1) == "a", int(match.group(2))
    try:
        decision = await context.services.excuses.decide(user.id, request_id, approve=approve)
    except AlreadyDecided as error:
        key = (
            "excuse.alert.already_approved"
            if error.request.state == ExcuseState.APPROVED
            else "excuse.alert.already_declined"
        )
        await query.answer(t(key, html=False), show_alert=True)
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)
        return
    except (NotATeacher, NotPermitted):
        await query.answer(t("excuse.alert.not_yours", html=False), show_alert=True)
        return
    except InvalidArgument:
        await query.answer(t("excuse.alert.gone", html=False), show_alert=True)
        return
    student = decision.student.display_name
    if not approve:
        alert = t("excuse.alert.declined", html=False)
    elif decision.request.target.session_id.startswith(SLOT_PREFIX):
        alert = t("excuse.alert.premarked", name=student, html=False)
    elif decision.correction is None:
        alert = t("excuse.alert.already_excused", html=False)
    else:
        alert = t("excuse.alert.approved", name=student, html=False)
    await query.answer(alert_text(alert))
    decider = profile_of(user).display_name
    card = replies.card(decision.request, decision.course, student, context.tz, decider)
    await _show_decided(update, card)
    await tell_student(context, decision.request, decision.course)


def _resend(
    context: AttnContext, chat_id: int, request: ExcuseRequest, course: Course, student: UserProfile
) -> Callable[[], Awaitable[bool]]:
    return lambda: send_card(context, chat_id, request, course, student)


async def excuses_command(update: Update, context: AttnContext) -> None:
    """/excuses: every request of the teacher's courses still waiting, each with its
    buttons again (the first card may have been missed, or sent before they opened the bot)."""
    user = update.effective_user
    assert user is not None
    waiting = await context.services.excuses.waiting(user.id)
    respond(context, update, replies.waiting(len(waiting)))
    for request, course, student in waiting[:MAX_RESENT]:

        async def again(
            request: ExcuseRequest = request,
            course: Course = course,
            student: UserProfile = student,
        ) -> bool:
            return await send_card(context, user.id, request, course, student)

        respond_with(context, update, again)


COMMANDS: tuple[Command, ...] = (
    Command("excuse", excuse_command, Role.STUDENT),
    Command("excuses", excuses_command, Role.TEACHER),
)
