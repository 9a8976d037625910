"""/staff: a course's owner invites co-teachers and assistants with one-time links, sees
who they are and removes them (buttons under the list). The services check who may."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import TelegramError

from bot import choosers
from bot.commands import Command, Role
from bot.context import AttnContext
from bot.course_chooser import chosen_course, course_page, own_button, show_again
from bot.menus import refresh_commands_of
from bot.replies import staff as replies
from bot.replying import respond, send_later
from bot.text import Text, t
from services.course_access import Permission
from services.models import Course


async def staff_command(update: Update, context: AttnContext) -> None:
    """/staff [course]: the course's co-teachers and assistants, with buttons to invite and
    remove; with several courses and none named, the owner picks one."""
    user = update.effective_user
    assert user is not None
    staff = context.services.staff
    course = await chosen_course(
        update, context, staff, prefix="sf", which=t("staff.which"), none=_no_courses
    )
    if course is None:
        return
    listing = await staff.listing(user.id, course.id)
    markup = choosers.staff_buttons(course.id, listing.members)
    respond(context, update, replies.staff_listing(listing), reply_markup=markup)


async def staff_button(update: Update, context: AttnContext) -> None:
    """/staff's buttons: a course picked, a page of courses, an invitation, a removal. The
    course is read back as the presser's own each time (forged data gets the refusal)."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    parsed = await own_button(update, "sf")
    if parsed is None:
        return
    kind, values = parsed
    staff = context.services.staff
    if kind == "sf:l":
        await course_page(update, staff, prefix="sf", which=t("staff.which"), page=int(values[0]))
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
    await show_again(query, replies.staff_listing(listing), markup)


async def _no_courses() -> Text:
    return t("staff.no_courses")


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
