"""/grading: a course's grading policy and absence alerts (teachers)."""

from __future__ import annotations

from telegram import Update

from bot import choosers, replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.replies.grading import policy_text
from bot.replying import edit_in_place, respond
from bot.text import t
from services.course_access import Permission
from services.course_admin import active
from services.grading import GRADING_WORDS
from services.models import Course


def _pairs(words: list[str]) -> list[tuple[str, str]] | None:
    """`late=0.8` or `late 0.8`, for each of /grading's words; None: something else typed."""
    pairs: list[tuple[str, str]] = []
    rest = list(words)
    while rest:
        key, sep, value = rest.pop(0).partition("=")
        key = key.lower()
        if key not in GRADING_WORDS:
            return None
        if not sep or not value:
            if not rest:
                return None
            value = rest.pop(0)
        pairs.append((key, value))
    return pairs


async def grading_command(update: Update, context: AttnContext) -> None:
    """/grading [course] [present=P] [late=P] [absent=P] [excused=out|present] [allowed=N|none] [basis=date|term] [planned=N|none] [streak=N|off] [alert=student|teacher|both]

    Shows the course's policy, or changes it: all the values typed, or none when one is
    refused."""  # noqa: E501
    user = update.effective_user
    assert user is not None
    services = context.services
    await services.access.require_any(user.id, Permission.SETTINGS)
    args = list(context.args or [])
    if not args:  # the buttons offer active courses; an archived one is named outright
        courses = active(await services.courses.teacher_courses(user.id, Permission.SETTINGS))
        if len(courses) == 1:
            await _show(update, context, user.id, courses[0])
        elif courses:
            markup = choosers.course_buttons("gr", courses)
            respond(context, update, t("grading.which"), reply_markup=markup)
        else:
            respond(context, update, replies.courses_list(courses, context.bot.username))
        return
    course, used = await services.courses.find_teacher_course(user.id, args, Permission.SETTINGS)
    pairs = _pairs(args[used:])
    if pairs is None:
        respond(context, update, t("command.grading.usage"))
        return
    policy = await services.grading.change_policy(user.id, course, pairs)
    respond(context, update, policy_text(course, policy))


async def _show(update: Update, context: AttnContext, teacher_id: int, course: Course) -> None:
    policy = await context.services.grading.teacher_policy(teacher_id, course)
    respond(context, update, policy_text(course, policy))


async def grading_button(update: Update, context: AttnContext) -> None:
    """/grading's buttons: a course picked (its policy replaces the question; only the
    presser's own course), or a page of the course list."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("gr:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    services = context.services
    if kind == "gr:l":
        courses = active(await services.courses.teacher_courses(user.id, Permission.SETTINGS))
        markup = choosers.course_buttons("gr", courses, int(values[0]))
        await edit_in_place(update, t("grading.which"), markup)
        return
    course = await services.courses.course_for_teacher(user.id, int(values[0]), Permission.SETTINGS)
    policy = await services.grading.teacher_policy(user.id, course)
    await edit_in_place(update, policy_text(course, policy), None)


COMMANDS: tuple[Command, ...] = (Command("grading", grading_command, Role.TEACHER),)
