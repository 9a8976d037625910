"""A course's life after it is made: rename, archive, remove a student, leave, a new join
code, transfer. The services check who may do what; every change is audited there."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot.commands import Command, Role, commands_of
from bot.context import AttnContext
from bot.languages import recipient_languages
from bot.replies import lifecycle as replies
from bot.replying import respond, send_later
from bot.text import Text
from services.course_access import Permission, match_course
from services.errors import InvalidArgument

_LEAVE = re.compile(r"lv:(ask|yes|no):(\d{1,18})", re.ASCII)


def _args(update: Update, context: AttnContext, name: str, least: int) -> list[str] | None:
    """The command's words, or None (and its usage line said) when there are too few."""
    args = list(context.args or [])
    if len(args) < least:
        usage = commands_of(context.application)[name].usage()
        respond(context, update, replies.usage(usage))
        return None
    return args


def _tell(context: AttnContext, update: Update, user_id: int, text: Text) -> None:
    """Tell someone else (a removed student, a course's new teacher), in the background; a
    user who never opened the bot or blocked it is simply not told."""

    async def send() -> None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(user_id, text)

    send_later(context, update, send())


async def rename_course_command(update: Update, context: AttnContext) -> None:
    """/rename_course <course> <new name>"""
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.MANAGE)
    args = _args(update, context, "rename_course", 2)
    if args is not None:
        old, course = await context.services.course_admin.rename(user.id, args)
        respond(context, update, replies.renamed(old, course))


async def _set_archived(update: Update, context: AttnContext, *, archived: bool) -> None:
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.ARCHIVE)
    name = "archive_course" if archived else "unarchive_course"
    args = _args(update, context, name, 1)
    if args is not None:
        course = await context.services.course_admin.set_archived(user.id, args, archived=archived)
        respond(context, update, replies.archived(course))


async def archive_course_command(update: Update, context: AttnContext) -> None:
    """/archive_course <course>"""
    await _set_archived(update, context, archived=True)


async def unarchive_course_command(update: Update, context: AttnContext) -> None:
    """/unarchive_course <course>"""
    await _set_archived(update, context, archived=False)


async def remove_student_command(update: Update, context: AttnContext) -> None:
    """/remove_student <course> <student>"""
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.MANAGE)
    args = _args(update, context, "remove_student", 2)
    if args is not None:
        course, student = await context.services.course_admin.remove_student(user.id, args)
        respond(context, update, replies.student_removed(course, student.display_name))
        if student.user_id > 0:  # an imported place nobody claimed has no one to tell
            _tell(context, update, student.user_id, replies.removed_notice(course))


async def new_join_code_command(update: Update, context: AttnContext) -> None:
    """/new_join_code <course>"""
    user = update.effective_user
    assert user is not None
    await context.services.access.require_any(user.id, Permission.MANAGE)
    args = _args(update, context, "new_join_code", 1)
    if args is not None:
        course = await context.services.course_admin.new_join_code(user.id, args)
        respond(context, update, replies.new_join_code(course, context.bot.username))


async def transfer_course_command(update: Update, context: AttnContext) -> None:
    """/transfer_course <course code> <user id or @username>"""
    user = update.effective_user
    assert user is not None
    await context.services.roles.require_admin(user.id)
    args = _args(update, context, "transfer_course", 2)
    if args is None:
        return
    old_teacher, course, handover = await context.services.course_admin.transfer(
        user.id, args[0], " ".join(args[1:])
    )
    respond(context, update, replies.transferred(course, handover))
    if old_teacher != course.teacher_id:  # each told in their own language
        languages = recipient_languages(context)
        new_notice = replies.transfer_notice_new(
            course, handover, await languages.of(course.teacher_id)
        )
        _tell(context, update, course.teacher_id, new_notice)
        old_notice = replies.transfer_notice_old(course, await languages.of(old_teacher))
        _tell(context, update, old_teacher, old_notice)


def _leave_buttons(course_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(replies.LEAVE_YES_BUTTON, callback_data=f"lv:yes:{course_id}"),
                InlineKeyboardButton(replies.LEAVE_NO_BUTTON, callback_data=f"lv:no:{course_id}"),
            ]
        ]
    )


async def leave_command(update: Update, context: AttnContext) -> None:
    """/leave [course]"""
    user = update.effective_user
    assert user is not None
    courses = await context.services.courses.student_courses(user.id)
    args = list(context.args or [])
    if not courses:
        respond(context, update, replies.LEAVE_NONE)
        return
    if args:
        matched = match_course(courses, args)
        if matched is None:
            raise InvalidArgument("course", "not_enrolled")
        course = matched[0]
    elif len(courses) == 1:
        course = courses[0]
    else:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(c.name, callback_data=f"lv:ask:{c.id}")] for c in courses]
        )
        respond(context, update, replies.LEAVE_WHICH, reply_markup=keyboard)
        return
    respond(context, update, replies.leave_confirm(course), reply_markup=_leave_buttons(course.id))


async def leave_button(update: Update, context: AttnContext) -> None:
    """A course picked to leave, or the answer to "Leave <course>?"; for the presser only."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    picked = _LEAVE.fullmatch(query.data or "")
    if picked is None:
        raise InvalidArgument("course", "not_enrolled")
    action, course_id = picked[1], int(picked[2])
    if action == "no":
        await query.answer()
        await _edit(query.edit_message_text(replies.LEAVE_KEPT))
        return
    if action == "ask":
        courses = await context.services.courses.student_courses(user.id)
        course = next((c for c in courses if c.id == course_id), None)
        if course is None:
            raise InvalidArgument("course", "not_enrolled")
        await query.answer()
        await _edit(
            query.edit_message_text(
                replies.leave_confirm(course), reply_markup=_leave_buttons(course.id)
            )
        )
        return
    course = await context.services.course_admin.leave(user.id, course_id)
    await query.answer()
    await _edit(query.edit_message_text(replies.left(course)))


async def _edit(edit: Awaitable[object]) -> None:
    """An edit in place; a second tap finds it done ("message is not modified")."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


COMMANDS: tuple[Command, ...] = (
    Command("leave", leave_command, Role.STUDENT),
    Command("rename_course", rename_course_command, Role.TEACHER, staff=Permission.MANAGE),
    Command("archive_course", archive_course_command, Role.TEACHER, staff=Permission.ARCHIVE),
    Command("unarchive_course", unarchive_course_command, Role.TEACHER, staff=Permission.ARCHIVE),
    Command("remove_student", remove_student_command, Role.TEACHER, staff=Permission.MANAGE),
    Command("new_join_code", new_join_code_command, Role.TEACHER, staff=Permission.MANAGE),
    Command("transfer_course", transfer_course_command, Role.ADMIN),
)
