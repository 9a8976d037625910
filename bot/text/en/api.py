"""The REST API's tokens: /api_tokens, its buttons, the token shown once."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "command.api_tokens.about": "tokens of the REST API for your course: new, list, revoke",
    "command.api_tokens.usage": "/api_tokens [course]",
    "api.which": "Which course's API tokens?",
    "api.no_courses": "You own no course yet. /new_course makes one.",
    "api.admin_hint": "As an admin, name any course by its join code: /api_tokens CODE",
    "api.heading": "<b>API tokens of {name}</b> (course id {course_id})",
    "api.empty": "No tokens yet.",
    "api.token": ("• <code>{label}</code> — {scope}\n  made {created} · last used {used}"),
    "api.never_used": "never",
    "api.scope.read": "read",
    "api.scope.read_write": "read and write",
    "api.explain": (
        "A token lets another system (a gradebook, the registry) read this course's "
        "sessions, records, rates and grades over HTTP at <code>/api/v1</code>; a read-and-"
        "write token can also import the roster. Each token is shown once: keep it like a "
        "password. Revoking one stops it at once."
    ),
    "api.button.new_read": "➕ New read token",
    "api.button.new_read_write": "➕ New read-and-write token",
    "api.button.revoke": "✖ Revoke {label}",
    "api.created": (
        "New {scope} token for <b>{name}</b> (course id {course_id}). It is shown only now: "
        "copy it into the other system, then delete this message.\n"
        "<tg-spoiler><code>{secret}</code></tg-spoiler>\n"
        "Send it as <code>Authorization: Bearer …</code>."
    ),
    "api.revoked": "Token {label} revoked: it no longer works.",
    "api.already_revoked": "Already revoked.",
    "api.too_many": "This course has {count} tokens already: revoke one first.",
}
