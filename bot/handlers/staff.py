"""/staff: a course's owner invites co-teachers and assistants with one-time links, sees
who they are and removes them (buttons under the list). The services check who may."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot import choosers
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.menus import refresh_commands_of
from bot.replies import BAD_BUTTON
from bot.replies import staff as replies
from bot.replying import edit_in_place, respond, send_later
from bot.text import t
from services.course_access import Permission
from services.course_admin import active
from services.models import Course


async def staff_command(update: Update, context: AttnContext) -> None:
    """/staff [course]: the course's co-teachers and assistants, with buttons to invite and
    remove; with several courses and none named, the owner picks one."""
    user = update.effective_user
    assert user is not None
    staff = context.services.staff
    args = list(context.args or [])
    if args:
        course = await staff.find_course(user.id, args)
    else:
        courses = active(await staff.manageable_courses(user.id))
        if not courses:
            respond(context, update, t("staff.no_courses"))
            return
        if len(courses) > 1:
            markup = choosers.course_buttons("sf", courses)
            respond(context, update, t("staff.which"), reply_markup=markup)
            return
        course = courses[0]
    listing = await staff.listing(user.id, course.id)
    markup = choosers.staff_buttons(course.id, listing.members)
    respond(context, update, replies.staff_listing(listing), reply_markup=markup)


async def staff_button(update: Update, context: AttnContext) -> None:
    """/staff's buttons: a course picked, a page of courses, an invitation, a removal. The
    course is read back as the presser's own each time (forged data gets the refusal)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = choosers.parse(query.data or "")
    if parsed is None or not parsed[0].startswith("sf:"):
        await query.answer(BAD_BUTTON, show_alert=True)
        return
    kind, values = parsed
    staff = context.services.staff
    if kind == "sf:l":
        courses = active(await staff.manageable_courses(user.id))
        markup = choosers.course_buttons("sf", courses, int(values[0]))
        await edit_in_place(update, t("staff.which"), markup)
        return
    course_id = int(values[0])
    if kind == "sf:i":
        role = choosers.ROLE_LETTERS[values[1]]
        course, token = await staff.invite(user.id, course_id, role)
        await query.answer()
        link = replies.staff_link(context.bot.username, token)
        respond(context, update, replies.staff_invite(course, role, link))
        return
    if kind == "sf:r":
        course, member = await staff.remove(user.id, course_id, int(values[1]))
        if member is None:
            await query.answer(str(t("staff.already_removed", html=False)), show_alert=True)
        else:
            name = member.profile.display_name
            await query.answer(str(t("staff.removed", person=name, name=course.name, html=False)))
            _tell_removed(update, context, member.profile.user_id, course)
    listing = await staff.listing(user.id, course_id)  # a forged course is refused here
    if kind == "sf:c":
        await query.answer()
    markup = choosers.staff_buttons(course_id, listing.members)
    try:
        await query.edit_message_text(replies.staff_listing(listing), reply_markup=markup)
    except BadRequest as exc:  # a double tap: the list is shown already
        if "not modified" not in str(exc).lower():
            raise


def _tell_removed(update: Update, context: AttnContext, user_id: int, course: Course) -> None:
    """The removed member is told, and their menu shrinks to what they may still do."""

    async def tell() -> None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(user_id, replies.removed_notice(course))
        await refresh_commands_of(context, user_id)

    send_later(context, update, tell())


COMMANDS: tuple[Command, ...] = (
    Command("staff", staff_command, Role.TEACHER, staff=Permission.MANAGE_STAFF),
)
