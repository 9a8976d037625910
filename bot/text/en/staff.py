"""Co-teachers and assistants of a course: /staff, its invitation links, refusals by role."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "command.staff.about": "co-teachers and assistants of your course: invite, list, remove",
    "command.staff.usage": "/staff [course]",
    "staff.not_permitted.co_teacher": (
        "A co-teacher cannot do that: only the course's owner archives it, changes its staff "
        "or makes its API tokens."
    ),
    "staff.not_permitted.assistant": (
        "An assistant cannot do that: assistants start and end sessions and mark attendance."
    ),
    "staff.not_permitted.any": (
        "Your role in your courses does not allow that. /help shows what you can do."
    ),
    "staff.role.co_teacher": "co-teacher",
    "staff.role.assistant": "assistant",
    "staff.course_mark": "👥 {role}",
    "staff.which": "Which course's staff?",
    "staff.no_courses": "You own no course yet. /new_course makes one.",
    "staff.heading": "<b>Staff of {name}</b>",
    "staff.member": "• {name} — {role}",
    "staff.empty": "No co-teachers or assistants yet.",
    "staff.explain": (
        "A co-teacher can do everything but archive the course or change its staff. An "
        "assistant starts and ends sessions and marks attendance. Each invitation link works "
        "once, within 7 days."
    ),
    "staff.button.invite_co_teacher": "➕ Invite a co-teacher",
    "staff.button.invite_assistant": "➕ Invite an assistant",
    "staff.button.remove": "✖ Remove {name}",
    "staff.invite.co_teacher": (
        "Send this link to the co-teacher of <b>{name}</b>. It works once, within 7 days:\n{link}"
    ),
    "staff.invite.assistant": (
        "Send this link to the assistant of <b>{name}</b>. It works once, within 7 days:\n{link}"
    ),
    "staff.joined.co_teacher": (
        "You are now a co-teacher of <b>{name}</b>. /help shows your commands."
    ),
    "staff.joined.assistant": (
        "You are now an assistant of <b>{name}</b>: you can /start_session, /end_session and "
        "/mark for it. /help shows your commands."
    ),
    "staff.joined_notice.co_teacher": "{person} is now a co-teacher of <b>{name}</b>.",
    "staff.joined_notice.assistant": "{person} is now an assistant of <b>{name}</b>.",
    "staff.bad_link": (
        "This staff invitation is not valid: it was used, has expired or is wrong. Ask the "
        "course's teacher for a new one."
    ),
    "staff.own_course": (
        "This invitation is for your own course: send it to the person you are inviting."
    ),
    "staff.removed": "{person} is no longer on the staff of <b>{name}</b>.",
    "staff.removed_notice": "You are no longer on the staff of <b>{name}</b>.",
    "staff.already_removed": "Already removed.",
    "staff.started_by": "Started by {name}",
    "staff.mydata": "Co-teacher or assistant of: {courses}",
    "staff.mydata_item": "{name} ({role})",
}
