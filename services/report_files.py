"""Report files a teacher can hand in: CSV and XLSX tables, and a PNG chart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from services.export import neutralise_cell, zone_label
from services.reports import CourseReport

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

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
    """One row per student; user text already neutralised (see `neutralise_cell`)."""
    return [
        [
            s.student_id,
            neutralise_cell(s.student_number),
            neutralise_cell(s.name),
            s.sessions,
            s.present,
            s.late,
            s.excused,
            s.absent,
            round(s.percent, 1),
        ]
        for s in report.standings
    ]


def _latest(report: CourseReport) -> datetime | None:
    """When the report's last session started: the offset a zone label shows."""
    return report.sessions[-1].started_at if report.sessions else None


def report_csv(report: CourseReport) -> bytes:
    """The per-student table as CSV (UTF-8 with BOM, so spreadsheet programs read accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    writer.writerows(_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _append_text_safe(sheet: Worksheet, row: list[object]) -> None:
    """Append a row; every text cell is stored as a string, never as a formula (openpyxl
    reads any string starting with `=` as one), on top of `neutralise_cell`."""
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def report_xlsx(report: CourseReport, tz: tzinfo = UTC) -> bytes:
    """The per-student table and the per-session rates as an XLSX workbook; session times
    are in `tz` (the header names the zone, a column gives each row's UTC offset)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Students"
    sheet.append(REPORT_HEADER)
    for row in _rows(report):
        _append_text_safe(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sessions = book.create_sheet("Sessions")
    sessions.append(
        [
            "session_id",
            "title",
            f"started_at ({zone_label(tz, _latest(report))})",
            "utc_offset",
            "attended",
            "late",
            "absent",
            "excused",
            "attendance_percent",
        ]
    )
    for rate in report.sessions:
        local = rate.started_at.astimezone(tz)
        offset = local.strftime("%z")
        _append_text_safe(
            sessions,
            [
                rate.session_id,
                neutralise_cell(rate.title),
                local.replace(tzinfo=None),  # XLSX has no zones: local time, zone in header
                f"{offset[:3]}:{offset[3:]}",
                rate.attended,
                rate.late,
                rate.absent,
                rate.excused,
                round(rate.percent, 1),
            ],
        )
        sessions.cell(row=sessions.max_row, column=3).number_format = "yyyy-mm-dd hh:mm"
    for cell in sessions[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_chart(report: CourseReport, tz: tzinfo = UTC) -> bytes:
    """A PNG line chart of attendance per session over time (headless matplotlib), dates in
    `tz`. No user text is read as mathtext (`$x^$` would crash the drawing)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    if report.sessions:
        from matplotlib.dates import DateFormatter, date2num

        times = [float(date2num(rate.started_at)) for rate in report.sessions]  # type: ignore[no-untyped-call]
        axes.plot(times, [rate.percent for rate in report.sessions], marker="o")
        axes.xaxis_date(tz)
        axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d %H:%M", tz=tz))  # type: ignore[no-untyped-call]
        axes.set_xlabel(f"session start ({zone_label(tz, _latest(report))})", parse_math=False)
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, "No sessions yet", ha="center", va="center")
    axes.set_ylim(0, 105)
    axes.set_ylabel("attendance %", parse_math=False)
    axes.set_title(f"Attendance — {report.course.name}", parse_math=False)
    axes.grid(True, alpha=0.3)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
