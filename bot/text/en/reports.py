"""Reports: the course table, a student's history, nudges; the spreadsheet and chart labels."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "report.heading": (
        "<b>Report: {course}</b> — {sessions}, {students}\n"
        "Attendance % = (present + late) / (sessions − excused)."
    ),
    "report.sessions": Plural(one="{count} session", other="{count} sessions"),
    "report.nobody_joined": "Nobody has joined yet.",
    "report.table": "<pre>{header}\n{rows}</pre>",
    "report.table_more": "\n… {count} more in the spreadsheet.",
    # The table: a heading line, then the rows (`{rows}`), one per student.
    # The columns of the report's fixed-width table (short: they head 3-character columns).
    "report.col.name": "name",
    "report.col.sessions": "ses",
    "report.col.present": "pre",
    "report.col.late": "lat",
    "report.col.excused": "exc",
    "report.col.absent": "abs",
    "report.col.percent": "%",
    "report.row": "{name} {sessions} {present} {late} {excused} {absent} {percent}",
    "report.which_course": "Which course? Send /report followed by the course name.",
    # /history
    "history.none": "You are not enrolled in any course yet. Join one with /join CODE.",
    "history.heading": "<b>Your attendance</b>\n",
    "history.no_sessions": "<b>{course}</b>: no sessions yet",
    "history.line": (
        "<b>{course}</b>: {percent}% — {present} present, {late} late, {excused} excused, "
        "{absent} absent of {sessions}"
    ),
    "history.more": Plural(one="\n… and {count} more course", other="\n… and {count} more courses"),
    "nudge": (
        "Heads-up: your attendance in <b>{course}</b> is {percent}%, below the course's "
        "{threshold}%. Talk to your teacher if something is keeping you away."
    ),
}
