"""Grading policy (/grading), grades in /history, absence alerts and the weekly digest."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "command.grading.about": "a course's grading policy and absence alerts",
    "command.grading.usage": (
        "/grading [course] [present=P] [late=P] [absent=P] [excused=out|present] "
        "[allowed=N|none] [basis=date|term] [planned=N|none] [streak=N|off] "
        "[alert=student|teacher|both]"
    ),
    "grading.which": "Which course's grading? Pick one:",
    "grading.title": "<b>Grading — {course}</b>",
    "grading.points": "Points per session: present {present}, late {late}, absent {absent}",
    "grading.excused_out": "Excused sessions are left out of the count",
    "grading.excused_present": "Excused sessions count as present",
    "grading.to_date": "The grade is over the sessions held so far",
    "grading.term": Plural(
        one="The grade is over the whole term: {count} planned session",
        other="The grade is over the whole term: {count} planned sessions",
    ),
    "grading.term_unknown": (
        "The grade is over the whole term, but the number of planned sessions is not set "
        "(planned=N): until it is, over the sessions held so far"
    ),
    "grading.allowed": Plural(
        one="At most {count} absence allowed", other="At most {count} absences allowed"
    ),
    "grading.allowed_none": "No limit on absences",
    "grading.warn": "Warning level: {percent}% attendance (/course_settings changes it)",
    "grading.alert.student": Plural(
        one="After {count} absence in a row, the student is alerted",
        other="After {count} absences in a row, the student is alerted",
    ),
    "grading.alert.teacher": Plural(
        one="After {count} absence in a row, you are alerted",
        other="After {count} absences in a row, you are alerted",
    ),
    "grading.alert.both": Plural(
        one="After {count} absence in a row, the student and you are alerted",
        other="After {count} absences in a row, the student and you are alerted",
    ),
    "grading.alert_off": "No alert on absences in a row",
    "grading.change": (
        "Change it with /grading {course} and any of: present=1 late=0.8 absent=0 "
        "(points from 0 to 1), excused=out|present, allowed=N|none, basis=date|term, "
        "planned=N|none, streak=N|off, alert=student|teacher|both"
    ),
    "grading.no_grade": "—",
    "error.invalid.grading.points": (
        "Points are a number from 0 to 1 with at most two decimals, for example late=0.8."
    ),
    "error.invalid.grading.excused": (
        "excused= takes out (left out of the count) or present (counted as present)."
    ),
    "error.invalid.grading.basis": (
        "basis= takes date (the sessions held so far) or term (the whole term's planned sessions)."
    ),
    "error.invalid.grading.alert": "alert= takes student, teacher or both.",
    # /history, under each course's line.
    "grading.history.grade": "Grade: {grade}%",
    "grading.history.no_grade": "Grade: none yet",
    "grading.history.can_miss_next": Plural(
        one="You can miss the next {count} session and stay at or above {threshold}%",
        other="You can miss the next {count} sessions and stay at or above {threshold}%",
    ),
    "grading.history.can_miss_term": Plural(
        one="You can still miss {count} session this term and stay at or above {threshold}%",
        other=("You can still miss {count} sessions this term and stay at or above {threshold}%"),
    ),
    "grading.history.no_more": "⚠️ Missing one more session would take you below {threshold}%",
    "grading.history.none_allowed": Plural(
        one="⚠️ You have used the {count} absence allowed",
        other="⚠️ You have used all {count} absences allowed",
    ),
    "grading.history.over_allowed": Plural(
        one="⚠️ You have missed {count} session, more than the {allowed} allowed",
        other="⚠️ You have missed {count} sessions, more than the {allowed} allowed",
    ),
    "grading.history.below": "⚠️ Your attendance is below {threshold}% already",
    # The report's table: the grade beside the rate (the head is one letter, like the others).
    "grading.report_row": "{percent} {grade} {present} {late} {excused} {absent} {name}",
    "grading.col.grade": "G",
    "grading.legend": "G grade (see /grading)",
    # The report's legend line for the grade, and the files' column.
    "files.student.grade": "grade",
    "files.gradebook.student_number": "student_number",
    "files.gradebook.name": "name",
    "files.gradebook.grade": "grade",
    "files.name.gradebook": "gradebook-{course}.csv",
    # Absence alerts (N sessions missed in a row), to the student and to the teacher.
    "warning.absences_student": Plural(
        one=(
            "⚠️ You missed the last session of <b>{course}</b>. If something is keeping you "
            "away, talk to your teacher."
        ),
        other=(
            "⚠️ You missed the last {count} sessions of <b>{course}</b> in a row. If something "
            "is keeping you away, talk to your teacher."
        ),
    ),
    "warning.absences_teacher": Plural(
        one="⚠️ <b>{student}</b> missed the last session of <b>{course}</b>.",
        other="⚠️ <b>{student}</b> missed the last {count} sessions of <b>{course}</b> in a row.",
    ),
    # The weekly digest to each teacher (/settings switches it off with the alerts).
    "warning.digest.title": "<b>Your week — {week}</b>",
    "warning.digest.course": "<b>{course}</b>",
    "warning.digest.at_risk": "Below the warning level:",
    "warning.digest.at_risk_item": "• {name} — {percent}%",
    "warning.digest.nobody_at_risk": "Nobody below the warning level",
    "warning.digest.unclaimed": "Never claimed their place:",
    "warning.digest.unclaimed_item": "• {name}",
    "warning.digest.low": "Sessions with unusually low attendance:",
    "warning.digest.low_item": "• {when} {title} — {percent}%",
    "warning.digest.more": Plural(one="… and {count} more", other="… and {count} more"),
    "warning.digest.no_courses": "You have no active course.",
    # /settings
    "settings.alerts_on": "Absence alerts and the weekly digest: on",
    "settings.alerts_off": "Absence alerts and the weekly digest: off",
    "settings.alerts_on_button": "📣 Alerts on",
    "settings.alerts_off_button": "🔇 Alerts off",
}
