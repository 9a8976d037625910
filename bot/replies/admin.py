"""Replies for admins: teacher invitations, removals, the list of teachers."""

from __future__ import annotations

from bot.replies.format import fit, more
from bot.telegram_limits import ShortList
from bot.text import Named, Text, constants, t
from services.models import UserProfile

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "REMOVE_TEACHER_USAGE": "admin.remove_teacher_usage",
    "TEACHER_WELCOME": "admin.teacher_welcome",
    "BAD_TEACHER_INVITE": "admin.bad_invite",
}
__getattr__ = constants(CONSTANTS)


def teacher_invite(link: str) -> Text:
    return t("admin.invite", link=link)


def teacher_removed(user_id: int) -> Text:
    return t("admin.teacher_removed", id=user_id)


def teachers_list(configured: list[int], invited: list[UserProfile]) -> Text:
    lines = [t("admin.teacher_configured", id=uid) for uid in configured]
    lines += [t("admin.teacher_invited", name=p.display_name, id=p.user_id) for p in invited]
    heading = t("admin.teachers_heading")
    return fit([ShortList(heading, lines, "\n", more("common.more_line"))])
