"""Co-teachers and assistants of a course: refusals by role."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "staff.not_permitted.co_teacher": (
        "A co-teacher cannot do that: only the course's owner archives it or changes its staff."
    ),
    "staff.not_permitted.assistant": (
        "An assistant cannot do that: assistants start and end sessions and mark attendance."
    ),
    "staff.not_permitted.any": (
        "Your role in your courses does not allow that. /help shows what you can do."
    ),
}
