"""Replies about co-teachers and assistants of a course."""

from __future__ import annotations

from bot.text import Text, t
from services.course_access import NotPermitted
from services.models import CourseRole


def not_permitted(error: NotPermitted) -> Text:
    """A course role that does not allow the action (an owner is never refused)."""
    if error.role is CourseRole.CO_TEACHER:
        return t("staff.not_permitted.co_teacher")
    if error.role is CourseRole.ASSISTANT:
        return t("staff.not_permitted.assistant")
    return t("staff.not_permitted.any")
