"""Report files a teacher can hand in: CSV and XLSX tables, and a PNG chart."""

from __future__ import annotations

import csv
import io

from services.reports import CourseReport

REPORT_HEADER = [
    "student_id",
    "student_number",
    "name",
    "sessions",
    "present",
    "late",
    "excused",
    "absent",
    "attendance_percent",
]


def _rows(report: CourseReport) -> list[list[object]]:
    return [
        [
            s.student_id,
            s.student_number or "",
            s.name,
            s.sessions,
            s.present,
            s.late,
            s.excused,
            s.absent,
            round(s.percent, 1),
        ]
        for s in report.standings
    ]


def report_csv(report: CourseReport) -> bytes:
    """The per-student table as CSV (UTF-8 with BOM, so spreadsheet programs read accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    for row in _rows(report):
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: CourseReport) -> bytes:
    """The per-student table and the per-session rates as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Students"
    sheet.append(REPORT_HEADER)
    for row in _rows(report):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sessions = book.create_sheet("Sessions")
    sessions.append(
        [
            "session_id",
            "title",
            "started_at",
            "attended",
            "late",
            "absent",
            "excused",
            "attendance_percent",
        ]
    )
    for rate in report.sessions:
        sessions.append(
            [
                rate.session_id,
                rate.title,
                rate.started_at.replace(tzinfo=None),
                rate.attended,
                rate.late,
                rate.absent,
                rate.excused,
                round(rate.percent, 1),
            ]
        )
    for cell in sessions[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_chart(report: CourseReport) -> bytes:
    """A PNG line chart of attendance per session over time (headless matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    if report.sessions:
        from matplotlib.dates import date2num

        times = [float(date2num(rate.started_at)) for rate in report.sessions]  # type: ignore[no-untyped-call]
        axes.plot(times, [rate.percent for rate in report.sessions], marker="o")
        axes.xaxis_date()
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, "No sessions yet", ha="center", va="center")
    axes.set_ylim(0, 105)
    axes.set_ylabel("attendance %")
    axes.set_title(f"Attendance — {report.course.name}")
    axes.grid(True, alpha=0.3)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
