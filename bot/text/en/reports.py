"""Reports: the course table, a student's history, nudges; the spreadsheet and chart labels."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    # Every line of the report fits a phone (35 characters): keep these short.
    "report.title": "Report: {course}",
    "report.heading": "<b>{title}</b>\n{sessions}, {students}",
    "report.legend": "Rate = (P + L) / (sessions − E)\nP present, L late\nE excused, A absent",
    "report.sessions": Plural(one="{count} session", other="{count} sessions"),
    "report.nobody_joined": "Nobody has joined yet.",
    # A student removed from the course or who left it: their records are kept and shown.
    "report.left_name": "(left) {name}",
    "report.left_legend": "(left): no longer in the course",
    "report.table": "<pre>{header}\n{rows}</pre>",
    "report.page": "Page {page} of {pages}",
    # The table: a heading line, then the rows, one per student, the rate first. The column
    # heads are one letter (they head 1- to 3-character columns); the legend explains them.
    "report.col.name": "name",
    "report.col.present": "P",
    "report.col.late": "L",
    "report.col.excused": "E",
    "report.col.absent": "A",
    "report.col.percent": "%",
    "report.which_course": "Which course? Pick one:",
    "report.button.previous": "◀ Prev",
    "report.button.next": "Next ▶",
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
