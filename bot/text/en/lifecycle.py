"""A course's life after it is made: rename, archive, roster removal, leaving, new join
code, transfer."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "lifecycle.usage": "Write it like this: {usage}",
    "lifecycle.renamed": "Renamed <b>{old}</b> to <b>{new}</b>.",
    "lifecycle.archived": (
        "<b>{name}</b> is archived: no new sessions, and it is left out of course choices. "
        "Its attendance stays in /report and /history. /unarchive_course brings it back."
    ),
    "lifecycle.unarchived": "<b>{name}</b> is active again: you can start sessions in it.",
    "lifecycle.archived_mark": "🗄 archived",
    "lifecycle.student_removed": (
        "{student} is no longer in <b>{name}</b>. Their attendance so far is kept."
    ),
    "lifecycle.removed_notice": (
        "Your teacher removed you from <b>{name}</b>. Your attendance so far stays on record."
    ),
    "lifecycle.leave_which": "Which course do you want to leave?",
    "lifecycle.leave_none": "You are not enrolled in any course.",
    "lifecycle.leave_confirm": (
        "Leave <b>{name}</b>? Your attendance so far stays on record. To come back you will "
        "need the course code again."
    ),
    "lifecycle.leave_yes_button": "Leave the course",
    "lifecycle.leave_no_button": "Stay",
    "lifecycle.left": "You left <b>{name}</b>.",
    "lifecycle.leave_kept": "Nothing changed: you are still enrolled.",
    "lifecycle.new_join_code": (
        "New code for <b>{name}</b>: <code>/join {code}</code>\n"
        "New invite link: {link}\n"
        "The old code and link no longer work."
    ),
    "lifecycle.transferred": "<b>{name}</b> now belongs to teacher {teacher}.",
    "lifecycle.transfer_notice_new": (
        "An admin gave you the course <b>{name}</b> ({students}). /courses lists it."
    ),
    "lifecycle.transfer_tokens_revoked": Plural(
        one=(
            "{count} REST API token of the course was revoked (the former teacher held it): "
            "/api_tokens makes a new one."
        ),
        other=(
            "{count} REST API tokens of the course were revoked (the former teacher held "
            "them): /api_tokens makes new ones."
        ),
    ),
    "lifecycle.transfer_webhook_off": (
        "The course's webhook was switched off (it sent to the former teacher's address): "
        "/webhook sets a new one."
    ),
    "lifecycle.transfer_notice_old": "An admin gave your course <b>{name}</b> to another teacher.",
    "error.invalid.course.archived": (
        "That course is archived: no new sessions. /unarchive_course brings it back."
    ),
    "error.invalid.course.not_archived": "That course is not archived.",
    "error.invalid.course.not_enrolled": "You are not enrolled in that course.",
    "error.invalid.student.missing": (
        "Name the student too: their name, @username or student number."
    ),
    "error.invalid.course_name.taken_by_new_teacher": (
        "That teacher already has a course with this name: rename one of them first."
    ),
}
