"""Attendance exports: the same rows for `attn export` and for files sent to teachers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from services.models import ExportRow
from services.ports import AttendanceRecords

# What makes a spreadsheet program read a cell as a formula (or hide what follows): OWASP's
# CSV-injection list. Compared as whole characters, so an empty cell never matches.
FORMULA_PREFIXES = frozenset("=+-@\t\r")


def neutralise_cell(text: str | None) -> str:
    """User text made safe for any CSV or XLSX cell: a leading formula character gets a `'`,
    so spreadsheet programs show it instead of running it; empty stays empty.

    Every cell of user text in every file goes through here (CSV exports, report CSV/XLSX).
    """
    if not text:
        return ""
    return "'" + text if text[0] in FORMULA_PREFIXES else text


def zone_label(tz: tzinfo, when: datetime | None = None) -> str:
    """The zone's name and its UTC offset at `when` (default: now), e.g. `Europe/Berlin,
    UTC+01:00`, for column headers and chart axes."""
    moment = (when or datetime.now(UTC)).astimezone(tz)
    offset = moment.strftime("%z")
    name = getattr(tz, "key", None) or moment.tzname() or "UTC"
    return f"{name}, UTC{offset[:3]}:{offset[3:]}"


def rows_to_csv(rows: Sequence[ExportRow], tz: tzinfo, header: Sequence[str]) -> str:
    """CSV with `header` (seven columns, in the reader's language: the bot's catalog names
    them); times are ISO 8601 with their offset in the given time zone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                row.session_id,
                neutralise_cell(row.session_title),
                row.teacher_id,
                row.student_id,
                neutralise_cell(row.student_name),
                row.checked_in_at.astimezone(tz).isoformat() if row.checked_in_at else "",
                row.status.value,
            ]
        )
    return out.getvalue()


class ExportService:
    """Reads attendance records for export."""

    def __init__(self, *, attendance: AttendanceRecords) -> None:
        self._attendance = attendance

    async def session_rows(self, session_id: str) -> list[ExportRow]:
        return await self._attendance.export_rows(session_id)

    async def all_rows(self) -> list[ExportRow]:
        return await self._attendance.export_rows(None)
