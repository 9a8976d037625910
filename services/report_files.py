"""Report files a teacher can hand in: CSV and XLSX tables, and a PNG chart."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from services.export import neutralise_cell, zone_label
from services.models import StudentStanding
from services.reports import CourseReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from openpyxl.worksheet.worksheet import Worksheet


@dataclass(frozen=True, slots=True)
class ReportLabels:
    """The words of the report files, in the reader's language. The bot builds them from its
    text catalog; services hold no user text. `{zone}` and `{course}` are filled in here."""

    #: The per-student table: id, number, name, sessions, present, late, excused, absent, %,
    #: grade, enrolled.
    student_columns: tuple[str, ...]
    #: The per-session sheet: id, title, start (`{zone}`), offset, attended, late, absent,
    #: excused, %.
    session_columns: tuple[str, ...]
    students_sheet: str
    sessions_sheet: str
    chart_x: str
    chart_y: str
    chart_title: str
    chart_empty: str


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
            _grade_cell(report, s),
            s.enrolled,
        ]
        for s in report.standings
    ]


def _grade_cell(report: CourseReport, standing: StudentStanding) -> float | str:
    """The grade as a number (one decimal), or an empty cell while there is none."""
    grade = report.grade(standing).percent
    return "" if grade is None else float(grade)


def gradebook_csv(report: CourseReport, header: Sequence[str]) -> bytes:
    """Student number, name, grade: a plain UTF-8 CSV (no BOM, comma-separated, the grade
    with a dot) that gradebooks import (Moodle's grade import maps the number column to the
    ID number; Canvas and spreadsheets read it as is). No cell can be a formula: text cells
    starting with = + - @ get a `'` (`neutralise_cell`), grades are plain numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for s in report.standings:
        grade = report.grade(s).percent
        writer.writerow(
            [
                neutralise_cell(s.student_number),
                neutralise_cell(s.name),
                "" if grade is None else f"{grade:.1f}",
            ]
        )
    return out.getvalue().encode("utf-8")


def _latest(report: CourseReport) -> datetime | None:
    """When the report's last session started: the offset a zone label shows."""
    return report.sessions[-1].started_at if report.sessions else None


def report_csv(report: CourseReport, labels: ReportLabels) -> bytes:
    """The per-student table as CSV (UTF-8 with BOM, so spreadsheet programs read accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(labels.student_columns)
    writer.writerows(_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _append_text_safe(sheet: Worksheet, row: list[object]) -> None:
    """Append a row; every text cell is stored as a string, never as a formula (openpyxl
    reads any string starting with `=` as one), on top of `neutralise_cell`. Control
    characters XML cannot hold (a name with \x0b, an escape sequence) are dropped: openpyxl
    refuses them, and one such name made the whole course's XLSX fail."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def report_xlsx(report: CourseReport, labels: ReportLabels, tz: tzinfo = UTC) -> bytes:
    """The per-student table and the per-session rates as an XLSX workbook; session times
    are in `tz` (the header names the zone, a column gives each row's UTC offset)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = labels.students_sheet
    sheet.append(list(labels.student_columns))
    for row in _rows(report):
        _append_text_safe(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sessions = book.create_sheet(labels.sessions_sheet)
    zone = zone_label(tz, _latest(report))
    sessions.append([column.format(zone=zone) for column in labels.session_columns])
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


def report_chart(report: CourseReport, labels: ReportLabels, tz: tzinfo = UTC) -> bytes:
    """A PNG line chart of attendance per session over time (headless matplotlib), dates in
    `tz`. No user text is read as mathtext (`$x^$` would crash the drawing)."""
    figure = report_figure(report, labels, tz)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def report_figure(report: CourseReport, labels: ReportLabels, tz: tzinfo = UTC) -> Figure:
    """The chart before it is drawn to PNG: its axes' labels can be read (the course's zone).
    Labels go in logical order, whatever the script: matplotlib (>= 3.11, libraqm) joins
    Arabic-script letters and lays right-to-left text out itself."""
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
        zone = zone_label(tz, _latest(report))
        axes.set_xlabel(labels.chart_x.format(zone=zone), parse_math=False)
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, labels.chart_empty, ha="center", va="center")
    axes.set_ylim(0, 105)
    axes.set_ylabel(labels.chart_y, parse_math=False)
    axes.set_title(labels.chart_title.format(course=report.course.name), parse_math=False)
    axes.grid(True, alpha=0.3)
    return figure
