"""Roster import and claiming a place on it."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "roster.import_hint": (
        "Have the official roster? Send it to me as a CSV or XLSX file (student number, full "
        "name): each student then claims their place with their number."
    ),
    "roster.which_course": "Which course is this roster for?",
    "roster.document_hint": (
        "I only read files from teachers: a course's roster as a CSV or XLSX file."
    ),
    "roster.file_kind": (
        "Send the roster as a CSV or XLSX file: student number, full name, and optionally "
        "e-mail and group, one student per line (a header row is fine). At most 5,000 "
        "students and 20 MB."
    ),
    "roster.no_courses": "Create the course first with /new_course, then send the roster again.",
    "roster.file_gone": "That file is no longer waiting for a course: send it again.",
    "roster.download_failed": "I could not download that file from Telegram: send it again.",
    "roster.importing": "Reading the roster for <b>{course}</b>…",
    "roster.imported": (
        "Roster of <b>{course}</b>\n"
        "New places: {added}\n"
        "Already on the roster (left as they were): {already}\n"
        "Lines rejected: {rejected}"
    ),
    "roster.linked": (
        "Students already in the course who took the place of the student number they "
        "registered: {count}"
    ),
    "roster.rejected_heading": "<b>Rejected lines</b>\n",
    "roster.rejected_more": "\n… and {count} more: every rejected line is in the attached file.",
    "roster.next_steps": (
        "Students join with <code>/join {code}</code> or the invite link and give their "
        "student number to take their place. Until then a place counts as absent; /report "
        "lists who has not claimed theirs."
    ),
    "roster.reject.encoding": "line {line}: not UTF-8 like the rest of the file",
    "roster.reject.separator": (
        "line {line}: fields separated by “{detail}”, unlike the rest of the file"
    ),
    "roster.reject.fields": "line {line}: needs a student number and a name",
    "roster.reject.number": "line {line}: no valid student number",
    "roster.reject.name": "line {line}: the name is empty",
    "roster.reject.formula": (
        "line {line}: a cell starts with = + - or @ (a spreadsheet formula); type it as plain text"
    ),
    "roster.reject.duplicate": "line {line}: the same student number as line {detail}",
    "roster.reject.email": "line {line}: the e-mail address is not valid",
    "roster.reject.too_long": "line {line}: a name, e-mail or group is too long",
    "roster.csv.line": "line",
    "roster.csv.reason": "reason",
    "files.name.rejected": "rejected-lines.csv",
    "roster.ask_number": (
        "<b>{course}</b> has an official roster: send me your student number to take your "
        "place on it."
    ),
    "roster.claimed": (
        "Welcome to <b>{course}</b>, {name} (student number {number}). Your attendance so far "
        "is on your record."
    ),
    "roster.sent_to_teacher": (
        "Student number {number} has no free place on the roster of <b>{course}</b>. I asked "
        "your teacher to confirm you, and I will tell you their answer."
    ),
    "roster.request_no_place": (
        "{student} wants to join <b>{course}</b> with student number {number}, which is not "
        "on the imported roster."
    ),
    "roster.request_taken": (
        "{student} wants to join <b>{course}</b> with student number {number}, whose place "
        "someone else has already claimed."
    ),
    "roster.approve_button": "Approve",
    "roster.decline_button": "Decline",
    "roster.approved": "{student} is now in <b>{course}</b>.",
    "roster.approved_place": (
        "{student} is now in <b>{course}</b>, in the place of {name} ({number})."
    ),
    "roster.declined": "{student} was not added to <b>{course}</b>.",
    "roster.approved_notice": "Your teacher confirmed you: you are in <b>{course}</b>.",
    "roster.declined_notice": (
        "Your teacher did not confirm you for <b>{course}</b>. Check your student number "
        "with them, then join again."
    ),
    "roster.request_decided": "This request has already been answered.",
    "roster.unclaimed": "<b>Never claimed their place ({count})</b>: ",
    "roster.unclaimed_item": "{name} ({number})",
    "roster.unclaimed_more": " … and {count} more",
    "roster.mydata_place": "Roster place in <b>{course}</b>: {name}, student number {number}",
    "error.invalid.roster_file.too_big": (
        "That file is over 20 MB, the most a bot may download. Send a smaller CSV."
    ),
    "error.invalid.roster_file.unreadable": (
        "I cannot read that file. Send a CSV (UTF-8, UTF-16 or Latin-1) or an XLSX workbook."
    ),
    "error.invalid.roster_file.empty": "That file has no rows.",
    "error.invalid.roster_file.too_many_rows": (
        "That file has more than 5,000 students. Split it into several files."
    ),
}
