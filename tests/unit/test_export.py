from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.replies.files import export_header
from services.export import rows_to_csv
from services.models import AttendanceStatus, ExportRow


def test_csv_has_header_iso_times_with_offset_and_neutralised_formulas() -> None:
    row = ExportRow(
        "s1",
        "=HYPERLINK(1)",
        7,
        42,
        "Ada",
        datetime(2026, 9, 1, 9, 5, tzinfo=UTC),
        AttendanceStatus.PRESENT,
    )
    text = rows_to_csv([row], ZoneInfo("Europe/Berlin"), export_header())
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == export_header()
    assert parsed[1] == [
        "s1",
        "'=HYPERLINK(1)",
        "7",
        "42",
        "Ada",
        "2026-09-01T11:05:00+02:00",
        "present",
    ]
