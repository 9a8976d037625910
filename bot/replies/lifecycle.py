"""Replies about a course's life after it is made."""

from __future__ import annotations

from bot.replies.format import invite_link
from bot.text import Named, Raw, Text, constants, join, t
from services.models import Course
from services.ports.courses import Handover

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "ARCHIVED_MARK": "lifecycle.archived_mark",
    "LEAVE_WHICH": "lifecycle.leave_which",
    "LEAVE_NONE": "lifecycle.leave_none",
    "LEAVE_YES_BUTTON": ("lifecycle.leave_yes_button", False),
    "LEAVE_NO_BUTTON": ("lifecycle.leave_no_button", False),
    "LEAVE_KEPT": "lifecycle.leave_kept",
}
__getattr__ = constants(CONSTANTS)


def usage(usage_line: Text) -> Text:
    """A command written wrong: how it is written (its registry usage line)."""
    return t("lifecycle.usage", usage=Raw(usage_line))


def renamed(old: str, course: Course) -> Text:
    return t("lifecycle.renamed", old=old, new=course.name)


def archived(course: Course) -> Text:
    key = "lifecycle.archived" if course.archived else "lifecycle.unarchived"
    return t(key, name=course.name)


def marked_if_archived(course: Course, item: Text) -> Text:
    """A course's line in /courses, marked when it is archived."""
    return join([t("lifecycle.archived_mark"), item], " ") if course.archived else item


def student_removed(course: Course, student_name: str) -> Text:
    return t("lifecycle.student_removed", student=student_name, name=course.name)


def removed_notice(course: Course) -> Text:
    return t("lifecycle.removed_notice", name=course.name)


def leave_confirm(course: Course) -> Text:
    return t("lifecycle.leave_confirm", name=course.name)


def left(course: Course) -> Text:
    return t("lifecycle.left", name=course.name)


def new_join_code(course: Course, bot_username: str) -> Text:
    return t(
        "lifecycle.new_join_code",
        name=course.name,
        code=course.join_code,
        link=invite_link(bot_username, course),
    )


def _handover(handover: Handover, language: str | None = None) -> list[Text]:
    """What the transfer switched off (the former owner's API tokens and webhook), if any."""
    lines = []
    if handover.tokens_revoked:
        key = "lifecycle.transfer_tokens_revoked"
        lines.append(t(key, count=handover.tokens_revoked, language=language))
    if handover.webhook_removed:
        lines.append(t("lifecycle.transfer_webhook_off", language=language))
    return lines


def transferred(course: Course, handover: Handover) -> Text:
    done = t("lifecycle.transferred", name=course.name, teacher=course.teacher_id)
    return join([done, *_handover(handover)])


def transfer_notice_new(course: Course, handover: Handover, language: str) -> Text:
    """The new owner's notice, in their language."""
    students = t("plural.students", count=course.roster_size, language=language)
    notice = t(
        "lifecycle.transfer_notice_new", name=course.name, students=students, language=language
    )
    return join([notice, *_handover(handover, language)])


def transfer_notice_old(course: Course, language: str) -> Text:
    return t("lifecycle.transfer_notice_old", name=course.name, language=language)
