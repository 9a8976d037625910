"""Admins: teachers added by invitation, removed, listed."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "admin.remove_teacher_usage": "Send: /remove_teacher &lt;user id or @username&gt;",
    "admin.teacher_welcome": "You are now a teacher. /help shows your commands.",
    "admin.bad_invite": (
        "That teacher invitation is not valid: it was used, has expired or is wrong."
    ),
    "admin.invite": ("Send this link to the new teacher. It works once, within 24 hours:\n{link}"),
    "admin.teacher_removed": "User {id} is no longer a teacher.",
    "admin.teachers_heading": "<b>Teachers</b>\n",
    "admin.teacher_configured": "• {id} (from the settings)",
    "admin.teacher_invited": "• {name} — {id}",
}
