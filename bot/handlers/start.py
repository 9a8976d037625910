"""/start and its deep links, and /help.

`/start <payload>` is how Telegram hands the bot what a link carried: the group's "open the
bot once" link, the group card's Check in link, a scanned QR, a teacher invite or a course
invite. Each payload is routed to the shared module that handles it.
"""

from __future__ import annotations

from telegram import Update

from bot import replies
from bot.checkins import reply_check_in
from bot.commands import Command, Role, commands_of, welcome
from bot.context import AttnContext
from bot.enrolment import reply_enrolment
from bot.menus import refresh_commands_of
from bot.private import OPEN_PAYLOAD
from bot.prompts import PendingAction
from bot.replying import profile_of, respond
from bot.staff_links import accept_staff_link
from services.course_access import Permission
from services.courses import INVITE_PREFIX
from services.qr import decode_checkin_payload, decode_group_payload
from services.roles import INVITE_PREFIX as TEACHER_INVITE_PREFIX
from services.staff import STAFF_INVITE_PREFIX


async def start_command(update: Update, context: AttnContext) -> None:
    """/start, or a deep link: `/start join_<invite token>` enrols in a course,
    `/start staff_<token>` makes the user a co-teacher or assistant of one."""
    user = update.effective_user
    assert user is not None
    payload = (context.args or [""])[0]
    if payload == OPEN_PAYLOAD:  # from a group's "open @bot once" link
        respond(context, update, replies.PRIVATE_CHAT_OPENED)
        return
    from_group = decode_group_payload(payload)
    if from_group is not None:
        await context.services.users.expect_reply(user.id, PendingAction.CHECKIN)
        respond(context, update, replies.ASK_FOR_CODE)
        return
    scanned = decode_checkin_payload(payload)
    if scanned is not None:
        session_id, code = scanned
        await reply_check_in(update, context, code, session_id)
        return
    if payload.startswith(TEACHER_INVITE_PREFIX):
        token = payload.removeprefix(TEACHER_INVITE_PREFIX)
        if await context.services.roles.accept_invite(user.id, token):
            respond(context, update, replies.TEACHER_WELCOME)
            await refresh_commands_of(context, user.id)
        else:
            respond(context, update, replies.BAD_TEACHER_INVITE)
        return
    if payload.startswith(STAFF_INVITE_PREFIX):
        await accept_staff_link(update, context, payload.removeprefix(STAFF_INVITE_PREFIX))
        return
    if payload.startswith(INVITE_PREFIX):
        token = payload.removeprefix(INVITE_PREFIX)
        enrolment = await context.services.courses.join_by_invite(profile_of(user), token)
        await reply_enrolment(update, context, enrolment)
        return
    # Course staff who run sessions read the teacher's how-to too.
    runs_sessions = Permission.RUN_SESSIONS in await context.services.access.permissions(user.id)
    commands = commands_of(context.application)
    respond(context, update, welcome(commands, user.first_name or "", is_teacher=runs_sessions))


async def help_command(update: Update, context: AttnContext) -> None:
    user = update.effective_user
    assert user is not None
    roles = context.services.roles
    is_teacher, is_admin = await roles.is_teacher(user.id), await roles.is_admin(user.id)
    staff = frozenset() if is_teacher else await context.services.access.permissions(user.id)
    commands = commands_of(context.application)
    respond(
        context, update, commands.help_text(is_teacher=is_teacher, is_admin=is_admin, staff=staff)
    )


COMMANDS: tuple[Command, ...] = (
    Command("help", help_command, Role.EVERYONE),
    Command("start", start_command, Role.EVERYONE),
)
