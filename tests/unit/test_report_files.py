"""Report files are safe and right: user text is never a formula, empty cells stay empty,
times carry the configured zone, and no user text in a chart is read as markup."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.replies.files import export_header, report_labels
from services.export import neutralise_cell, rows_to_csv
from services.models import AttendanceStatus, Course, ExportRow, StudentStanding
from services.report_files import report_chart, report_csv, report_xlsx
from services.reports import CourseReport, SessionRate

BERLIN = ZoneInfo("Europe/Berlin")
FORMULA = '=HYPERLINK("x")'
PNG = b"\x89PNG\r\n\x1a\n"

LABELS = report_labels()


def make_report(course_name: str = "Ethics", title: str = "-Week 1") -> CourseReport:
    course = Course(1, 7, course_name, "ABCDEFGH", "join_x")
    standings = [
        StudentStanding(41, FORMULA, None, 2, 1, 0, 0, 1),
        StudentStanding(42, "Ada", "+123", 2, 2, 0, 0, 0),
        StudentStanding(43, "@admin", "", 2, 0, 0, 0, 2),
    ]
    sessions = [
        SessionRate("s1", title, datetime(2026, 1, 12, 8, 15, tzinfo=UTC), 2, 3, 0, 1, 0),
        SessionRate("s2", "Week 2", datetime(2026, 7, 13, 8, 15, tzinfo=UTC), 1, 3, 0, 2, 0),
    ]
    return CourseReport(course, standings, sessions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        (None, ""),
        ("Ada", "Ada"),
        (FORMULA, "'" + FORMULA),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
    ],
)
def test_one_neutralising_function(text: str | None, expected: str) -> None:
    assert neutralise_cell(text) == expected


def test_report_csv_neutralises_text_and_keeps_empty_cells_empty() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(make_report(), LABELS).decode("utf-8-sig"))))
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["41"][1:3] == ["", "'" + FORMULA]  # no number: an empty cell, not "'"
    assert by_id["42"][1:3] == ["'+123", "Ada"]
    assert by_id["43"][1:3] == ["", "'@admin"]
    assert "'" not in [cell for row in rows for cell in row]


def test_xlsx_stores_user_text_as_text_never_a_formula() -> None:
    data = report_xlsx(make_report(), LABELS, BERLIN)
    book = load_workbook(io.BytesIO(data))
    students = book["Students"]
    cells = {row[0].value: row for row in students.iter_rows(min_row=2)}
    name = cells[41][2]
    assert name.value == "'" + FORMULA and name.data_type == "s"
    assert cells[41][1].value is None  # an empty cell stays empty
    assert cells[43][2].value == "'@admin"
    sessions = book["Sessions"]
    assert sessions.cell(row=2, column=2).value == "'-Week 1"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)


def test_xlsx_times_are_local_with_the_zone_and_offset() -> None:
    sessions = load_workbook(io.BytesIO(report_xlsx(make_report(), LABELS, BERLIN)))["Sessions"]
    header = [c.value for c in sessions[1]]
    assert "Europe/Berlin" in header[2] and header[3] == "utc_offset"
    winter = [c.value for c in sessions[2]]
    summer = [c.value for c in sessions[3]]
    assert (
        winter[2] == datetime(2026, 1, 12, 9, 15, tzinfo=BERLIN).replace(tzinfo=None)
        and winter[3] == "+01:00"
    )
    assert (
        summer[2] == datetime(2026, 7, 13, 10, 15, tzinfo=BERLIN).replace(tzinfo=None)
        and summer[3] == "+02:00"
    )


def test_export_csv_times_carry_the_configured_offset() -> None:
    row = ExportRow(
        "s1", FORMULA, 7, 42, "", datetime(2026, 1, 12, 8, 15, tzinfo=UTC), AttendanceStatus.LATE
    )
    [_, values] = list(csv.reader(io.StringIO(rows_to_csv([row], BERLIN, export_header()))))
    assert values[1] == "'" + FORMULA and values[4] == ""
    assert values[5] == "2026-01-12T09:15:00+01:00"


@pytest.mark.parametrize("name", ["$x^$", "$\\frac{1}{", "100$ $$ \\", "a_b^c $"])
def test_a_course_named_like_mathtext_gets_its_chart(name: str) -> None:
    assert report_chart(make_report(course_name=name), LABELS, BERLIN).startswith(PNG)
    empty = CourseReport(make_report(course_name=name).course, [], [])
    assert report_chart(empty, LABELS, BERLIN).startswith(PNG)
