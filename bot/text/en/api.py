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
    "command.webhook.about": "your course's outgoing webhook: set, test, remove",
    "command.webhook.usage": "/webhook [course] [https://… | off]",
    "error.invalid.webhook_url.not_https": (
        "The webhook must be an https:// address (with a host, no login in it)."
    ),
    "error.invalid.webhook_url.internal": (
        "That address is inside a private network: the webhook must be a public https:// address."
    ),
    "error.invalid.webhook_url.too_long": "That address is too long (2000 characters at most).",
    "webhook.none": (
        "<b>{name}</b> (course id {course_id}) has no webhook. To have each saved session "
        "POSTed to another system, send <code>/webhook https://…</code> (name the course "
        "first if you have several)."
    ),
    "webhook.heading": "<b>Webhook of {name}</b> (course id {course_id})\n<code>{url}</code>",
    "webhook.counts": "Delivered {delivered} · waiting {pending} · failed {failed}",
    "webhook.last_error": "Last problem: {error}",
    "webhook.explain": (
        "Each saved session is POSTed there as JSON, signed with the secret shown when the "
        "address was set; failures are tried again for about a day. "
        "<code>/webhook off</code> removes it."
    ),
    "webhook.set": (
        "Webhook of <b>{name}</b> (course id {course_id}) set to <code>{url}</code>. "
        "Its signing secret is shown only now: copy it into the receiving system, then "
        "delete this message.\n<tg-spoiler><code>{secret}</code></tg-spoiler>\n"
        "Each delivery carries <code>X-ATTN-Signature: sha256=…</code>, the HMAC-SHA256 of "
        "<code>X-ATTN-Timestamp</code>, a dot and the body. Setting the address again makes "
        "a new secret."
    ),
    "webhook.removed": "The webhook of <b>{name}</b> is removed; nothing more is sent.",
    "webhook.none_to_remove": "<b>{name}</b> has no webhook.",
    "webhook.button.test": "📨 Send a test event",
    "webhook.button.remove": "✖ Remove webhook",
    "webhook.button_removed": "Webhook removed: nothing more is sent.",
    "webhook.already_removed": "This course has no webhook any more.",
    "webhook.test_ok": "Test event delivered: the receiver answered {status}.",
    "webhook.test_status": "Test event not accepted: the receiver answered {status}.",
    "webhook.test_failed": "Test event not delivered: {error}.",
    "webhook.notice.gave_up": (
        "⚠️ <b>Webhook of {name}</b> (course id {course_id}): the session {session} could "
        "not be delivered to <code>{url}</code> and will not be sent again (attempts: "
        "{attempts}).\nLast problem: {error}\n<code>/webhook</code> shows its deliveries; "
        "the integration can read the session from the REST API."
    ),
    "webhook.notice.failing": (
        "⚠️ <b>Webhook of {name}</b> (course id {course_id}): deliveries to "
        "<code>{url}</code> are failing (the session {session}, attempts: {attempts}). "
        "They are tried again for about a day; this is said once, until one goes through."
        "\nLast problem: {error}"
    ),
    "webhook.notice.session": "<b>{title}</b> of {when}",
    "webhook.notice.session_gone": "<code>{session}</code>",
}
