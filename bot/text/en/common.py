"""General replies: hints, help, things every user may read, and small shared pieces."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "error.unexpected": "Sorry, something went wrong on my side. Please try again.",
    "plural.students": Plural(one="{count} student", other="{count} students"),
    "common.none": "—",
    "common.more_line": "\n… and {count} more",
    "hint.unexpected_location": "I wasn't expecting a location. To check in, send /checkin CODE.",
    # Where a projector or Mini App button would be, on a server without ATTN_PUBLIC_URL.
    "web.off": (
        "The projector view and the check-in app are not set up on this server (its operator "
        "can turn them on with ATTN_PUBLIC_URL). The code and QR here work as usual."
    ),
    "hint.plain_text": "To check in, send /checkin followed by the code, like: /checkin K7M2QX",
    "prompt.cancel_hint": "Send /cancel to stop.",
    "prompt.cancelled": "Cancelled. I'm not waiting for an answer any more.",
    "prompt.nothing_to_cancel": "Nothing to cancel.",
    "register.usage": (
        "Send your full name like this: /register Ada Lovelace\n"
        "You can add your student number at the end: /register Ada Lovelace 123456"
    ),
    "register.ask_name": (
        "What is your full name? Teachers see it in attendance lists. "
        "You can add your student number after it, e.g. <i>Ada Lovelace 123456</i>."
    ),
    "register.done": "Thanks! Teachers will see you as <b>{name}</b>.",
    "register.done_number": (
        "Thanks! Teachers will see you as <b>{name}</b> (student number {number})."
    ),
    "private.chat_opened": (
        "Thanks: I can now send you codes, reports and answers privately. To check in, send "
        "me the code here. To start a session in a group, send the command again there."
    ),
    "private.reply_failed": (
        "I can't write to you privately yet: open a chat with me, press Start, then check in there."
    ),
    "private.open_bot_first": (
        'I answer privately: open <a href="{link}">@{bot}</a> once (press '
        "Start) to get my answers. Send codes to me there, not in the group."
    ),
}
