"""`/start staff_<token>`: a co-teacher or assistant accepts the owner's one-time link.

Beside the other deep-link helpers (`bot.enrolment`) rather than in a handler module, so
`/start` routes to it without one handler importing another.
"""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import TelegramError

from bot.context import AttnContext
from bot.menus import refresh_commands_of
from bot.replies import staff as replies
from bot.replying import profile_of, respond, send_later
from bot.text import t
from services.staff import BadStaffLink, OwnCourseLink


async def accept_staff_link(update: Update, context: AttnContext, token: str) -> None:
    """Spend the link; the new member gets their menu, the owner a line saying who joined."""
    user = update.effective_user
    assert user is not None
    profile = profile_of(user)
    try:
        joined = await context.services.staff.accept(profile, token)
    except BadStaffLink:
        respond(context, update, t("staff.bad_link"))
        return
    except OwnCourseLink:
        respond(context, update, t("staff.own_course"))
        return
    respond(context, update, replies.joined(joined))
    await refresh_commands_of(context, user.id)

    async def tell_owner() -> None:
        with contextlib.suppress(TelegramError):  # an owner who blocked the bot is not told
            await context.bot.send_message(
                joined.invited_by, replies.joined_notice(joined, profile.display_name)
            )

    send_later(context, update, tell_owner())
