"""Refusals and failures: bad input, numbers out of range, Telegram saying no, our own trouble."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "error.bad_button": "That button is no longer valid.",
    "error.slow_down": "You're sending messages very fast: I'll ignore them for a moment.",
    "error.unavailable": (
        "Sorry, attendance is temporarily unavailable. Please try again in a minute."
    ),
    "error.unknown_command": "I don't know that command. /help lists the ones you can use.",
    "error.not_a_teacher": "Only teachers can do that. Students check in with /checkin CODE.",
    "error.not_an_admin": "Only admins can do that.",
    # A teacher with another teacher's session or course (a forged or stale button).
    "error.not_yours.session": "That session isn't yours: nothing was changed.",
    "error.not_yours.course": "That course isn't yours: nothing was changed.",
    "error.session_busy": "That session is being saved right now. Try again in a few seconds.",
    "error.invalid": "That input isn't valid.",
    # InvalidArgument by (field, problem): `error.invalid.<field>.<problem>`.
    "error.invalid.course_name.missing": (
        "Give the course a name, e.g. /new_course Linear Algebra"
    ),
    "error.invalid.course_name.taken": "You already have a course with that name.",
    "error.invalid.course.unknown": "You have no course by that name. /courses lists yours.",
    "error.invalid.join_code.format": (
        "A course code has 8 letters and digits. Ask your teacher for it: /join CODE"
    ),
    "error.invalid.join_code.unknown": "No course has that code. Check it with your teacher.",
    "error.invalid.invite.unknown": (
        "That invite link is not valid. Ask your teacher for a new one."
    ),
    "error.invalid.status.unknown": "The status must be present, late, excused or absent.",
    "error.invalid.session.unknown": "I know no session of yours with that id.",
    "error.invalid.session.none": "You have no session to correct yet.",
    "error.invalid.late_after.range": "Late after must be 0 to 240 minutes.",
    "error.invalid.warn_below.range": "The warning level must be 0 to 100 percent.",
    "error.invalid.time_zone.unknown": (
        "I don't know that time zone. Use a name like <code>Europe/Madrid</code> or "
        "<code>Asia/Tashkent</code>; nothing was changed."
    ),
    "error.invalid.teacher.unknown": "I know no teacher by that id or username.",
    "error.invalid.location.forwarded": "Share your current location, not a forwarded one.",
    "error.invalid.teacher.configured": (
        "That teacher is set in ATTN_TEACHER_IDS; remove them there and restart."
    ),
    "error.invalid.minutes.range": ("The length must be a whole number of minutes from 1 to 240."),
    "error.invalid.title.too_long": "That title is too long: keep it under 80 characters.",
    "error.invalid.code.format": (
        "That doesn't look like a check-in code. Codes have 6 letters and digits, like K7M2QX."
    ),
    "error.invalid.full_name.length": "A name must be 2 to 100 characters long.",
    "error.invalid.full_name.characters": ("A name may only contain letters, spaces, . ' and -."),
    "error.invalid.student_number.format": (
        "A student number may only contain letters, digits, . / and - (up to 32)."
    ),
    # A typed number outside its range: `{what} must be …` with the field's name and unit.
    "error.range.minutes": "The length",
    "error.range.extend_minutes": "The extension",
    "error.range.rotation": "The code rotation (rotate=N)",
    "error.range.late_after": "Late after",
    "error.range.warn_below": "The warning level",
    "error.range.number": "That number",
    "error.range.with_unit.minutes": (
        "{what} must be a whole number from {low} to {high} minutes{extra}, "
        "written with the digits 0-9."
    ),
    "error.range.with_unit.seconds": (
        "{what} must be a whole number from {low} to {high} seconds{extra}, "
        "written with the digits 0-9."
    ),
    "error.range.with_unit.percent": (
        "{what} must be a whole number from {low} to {high} percent{extra}, "
        "written with the digits 0-9."
    ),
    "error.range.no_unit": (
        "{what} must be a whole number from {low} to {high}{extra}, written with the digits 0-9."
    ),
    "error.range.rotation_fixed": ", or write fixed for a code that does not change",
    "error.range.session_cap": " (a session lasts at most {hours} hours)",
    "error.range.cannot_extend": (
        "This session cannot be extended: a session lasts at most {hours} hours. "
        "Start a new one when it ends."
    ),
    # Telegram did not take what the user asked for.
    "error.delivery.again": "try again",
    "error.delivery.again_command": "send {command} again",
    "error.delivery.in_minutes": Plural(one="in a minute", other="in {count} minutes"),
    "error.delivery.slow_down": "Telegram asked me to slow down. Please {again} {delay}.",
    "error.delivery.not_sent": "I could not send {what} just now. Please {again} in a minute.",
    "error.delivery.that": "that",
    "error.delivery.the_summary": "the summary",
}
