"""Attendance exports: the same rows for `attn export` and for files sent to teachers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import tzinfo

from services.models import ExportRow
from services.ports import RecordStore

EXPORT_HEADER = [
    "session_id",
    "session_title",
    "teacher_id",
    "student_id",
    "student_name",
    "checked_in_at",
    "status",
]


def _neutralise(text: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rows_to_csv(rows: Sequence[ExportRow], tz: tzinfo) -> str:
    """CSV with a header; times are ISO 8601 with their offset in the given time zone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.session_id,
                _neutralise(row.session_title),
                row.teacher_id,
                row.student_id,
                _neutralise(row.student_name),
                row.checked_in_at.astimezone(tz).isoformat() if row.checked_in_at else "",
                row.status.value,
            ]
        )
    return out.getvalue()


class ExportService:
    """Reads attendance records for export."""

    def __init__(self, records: RecordStore) -> None:
        self._records = records

    async def session_rows(self, session_id: str) -> list[ExportRow]:
        return await self._records.export_rows(session_id)

    async def all_rows(self) -> list[ExportRow]:
        return await self._records.export_rows(None)
