"""Courses: creating and listing them (teachers), joining them and registering (students)."""

from __future__ import annotations

from datetime import tzinfo

from telegram import Update

from bot import choosers, replies
from bot.checkins import dashboard_button
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.enrolment import register_from_words, reply_enrolment
from bot.private import hide_message, in_group
from bot.replying import edit_in_place, profile_of, respond, send_later
from bot.text import Text, join, t
from services.course_access import Permission
from services.course_admin import active
from services.courses import parse_course_setting, parse_time_zone
from services.errors import InvalidArgument
from services.models import Course


async def new_course_command(update: Update, context: AttnContext) -> None:
    """/new_course <name>"""
    user = update.effective_user
    assert user is not None
    course = await context.services.courses.new_course(user.id, " ".join(context.args or []))
    respond(context, update, replies.course_created(course, context.bot.username))


async def courses_command(update: Update, context: AttnContext) -> None:
    """/courses"""
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.VIEW)
    mine = await context.services.access.course_roles(user.id)
    courses = [item.course for item in mine]
    roles = {item.course.id: item.role for item in mine}
    respond(
        context,
        update,
        replies.courses_list(courses, context.bot.username, roles=roles),
        reply_markup=dashboard_button(context) if mine else None,
    )


async def course_settings_command(update: Update, context: AttnContext) -> None:
    """/course_settings <course> [late <minutes>] [warn <percent>] [tz=<zone>]"""
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.SETTINGS)
    args = list(context.args or [])
    if not args:  # the buttons offer active courses; an archived one is named outright
        courses = active(
            await context.services.courses.teacher_courses(user.id, Permission.SETTINGS)
        )
        if len(courses) == 1:
            respond(context, update, settings_text(courses[0], context.tz))
        elif courses:
            markup = choosers.course_buttons("cs", courses)
            respond(context, update, t("course.settings_which"), reply_markup=markup)
        else:
            respond(context, update, replies.COURSE_SETTINGS_USAGE)
        return
    course, used = await context.services.courses.find_teacher_course(
        user.id, args, Permission.SETTINGS
    )
    rest = _split_assignments(args[used:])
    values: dict[str, int] = {}
    zone: str | None = None
    while rest:
        word = rest[0].lower()
        if len(rest) < 2 or word not in ("late", "warn", "tz"):
            respond(context, update, replies.COURSE_SETTINGS_USAGE)
            return
        if word == "tz":
            zone = parse_time_zone(rest[1])  # a bad zone: refused before anything changes
        else:
            values[word] = parse_course_setting(word, rest[1])
        rest = rest[2:]
    if values or zone is not None:
        course = await context.services.courses.update_settings(
            user.id, course, values.get("late"), values.get("warn"), time_zone=zone
        )
    respond(context, update, replies.course_settings(course, context.tz))


def _split_assignments(words: list[str]) -> list[str]:
    """`tz=Europe/Madrid` read as `tz Europe/Madrid` (both spellings are accepted)."""
    out: list[str] = []
    for word in words:
        key, sep, value = word.partition("=")
        out.extend([key, value] if sep and key.lower() in ("late", "warn", "tz") else [word])
    return out


def settings_text(course: Course, tz: tzinfo) -> Text:
    """A course's settings, and how to change them (the usage line)."""
    return join([replies.course_settings(course, tz), replies.COURSE_SETTINGS_USAGE], "\n\n")


async def course_settings_button(update: Update, context: AttnContext) -> None:
    """/course_settings' buttons: a course picked (its settings replace the question; only
    the presser's own course), or a page of the course list."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("cs:"):
        await query.answer(replies.BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    if kind == "cs:l":
        courses = active(
            await context.services.courses.teacher_courses(user.id, Permission.SETTINGS)
        )
        markup = choosers.course_buttons("cs", courses, int(values[0]))
        await edit_in_place(update, t("course.settings_which"), markup)
        return
    course = await context.services.courses.course_for_teacher(
        user.id, int(values[0]), Permission.SETTINGS
    )
    await edit_in_place(update, settings_text(course, context.tz), None)


async def join_command(update: Update, context: AttnContext) -> None:
    """/join <course code>"""
    user = update.effective_user
    assert user is not None
    args = context.args or []
    if not args:
        respond(context, update, replies.JOIN_USAGE)
        return
    if len(args) > 2:
        raise InvalidArgument("join_code", "format")
    enrolment = await context.services.courses.join_by_code(profile_of(user), "".join(args))
    await reply_enrolment(update, context, enrolment)


async def register_command(update: Update, context: AttnContext) -> None:
    """/register <full name> [student number]"""
    user = update.effective_user
    assert user is not None
    args = list(context.args or [])
    if not args:
        respond(context, update, replies.REGISTER_USAGE)
        return
    if in_group(update):  # a name and a student number: keep them out of the group
        send_later(context, update, hide_message(update))
    await register_from_words(update, context, args)


COMMANDS: tuple[Command, ...] = (
    Command("join", join_command, Role.STUDENT),
    Command("register", register_command, Role.STUDENT),
    Command("new_course", new_course_command, Role.TEACHER),
    Command("courses", courses_command, Role.TEACHER, staff=Permission.VIEW),
    Command("course_settings", course_settings_command, Role.TEACHER, staff=Permission.SETTINGS),
)
