"""The files a teacher gets: column headers of the CSV and XLSX tables, the chart's labels.

The report's headers, sheet names and chart labels follow the asker's language (short, one
line); the export's columns (`files.export.*`) are names scripts read: `attn export` asks for
them in English.
`{zone}` is the time zone and its offset, `{course}` the course's name.
"""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    # The report's per-student table (CSV, and the XLSX's first sheet).
    "files.student.student_id": "student_id",
    "files.student.student_number": "student_number",
    "files.student.name": "name",
    "files.student.sessions": "sessions",
    "files.student.present": "present",
    "files.student.late": "late",
    "files.student.excused": "excused",
    "files.student.absent": "absent",
    "files.student.attendance_percent": "attendance_percent",
    # TRUE: on the roster; FALSE: removed or left (their records are kept).
    "files.student.enrolled": "enrolled",
    # The XLSX's per-session sheet.
    "files.sheet.students": "Students",
    "files.sheet.sessions": "Sessions",
    "files.session.session_id": "session_id",
    "files.session.title": "title",
    "files.session.started_at": "started_at ({zone})",
    "files.session.utc_offset": "utc_offset",
    "files.session.attended": "attended",
    "files.session.late": "late",
    "files.session.absent": "absent",
    "files.session.excused": "excused",
    "files.session.attendance_percent": "attendance_percent",
    # File names (the course's name made safe for a file name, the session's id).
    "files.name.report": "attendance-{course}.xlsx",
    "files.name.chart": "chart.png",
    "files.name.session": "attendance-{session}.csv",
    # The chart.
    "files.chart.x": "session start ({zone})",
    "files.chart.y": "attendance %",
    "files.chart.title": "Attendance — {course}",
    "files.chart.empty": "No sessions yet",
    # The attendance export (a session's CSV sent with its summary, `attn export`).
    "files.export.session_id": "session_id",
    "files.export.session_title": "session_title",
    "files.export.teacher_id": "teacher_id",
    "files.export.student_id": "student_id",
    "files.export.student_name": "student_name",
    "files.export.checked_in_at": "checked_in_at",
    "files.export.status": "status",
}
