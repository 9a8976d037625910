"""Courses: creating and listing them (teachers), joining them and registering (students)."""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.enrolment import register_from_words, reply_enrolment
from bot.private import hide_message, in_group
from bot.replying import profile_of, respond, send_later
from services.courses import parse_course_setting, parse_time_zone
from services.errors import InvalidArgument


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
    courses = await context.services.courses.teacher_courses(user.id)
    respond(context, update, replies.courses_list(courses, context.bot.username))


async def course_settings_command(update: Update, context: AttnContext) -> None:
    """/course_settings <course> [late <minutes>] [warn <percent>] [tz=<zone>]"""
    user = update.effective_user
    assert user is not None
    await context.services.roles.require_teacher(user.id)
    args = list(context.args or [])
    if not args:
        respond(context, update, replies.COURSE_SETTINGS_USAGE)
        return
    course, used = await context.services.courses.find_teacher_course(user.id, args)
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
    Command("courses", courses_command, Role.TEACHER),
    Command("course_settings", course_settings_command, Role.TEACHER),
)
