"""General replies: errors, hints, things every user may read."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "error.unexpected": "Sorry, something went wrong on my side. Please try again.",
    "plural.students": Plural(one="{count} student", other="{count} students"),
}
