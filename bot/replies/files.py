"""The words of the files a teacher gets, from the catalog, for the services that write them
(services hold no user text: the bot passes these in)."""

from __future__ import annotations

import re
import unicodedata

from bot.text import speaking, t
from bot.text.catalogs import SOURCE_LANGUAGE
from services.report_files import ReportLabels

#: Stands for a value the file writer puts in later (the zone, the course's name).
_ZONE = "{zone}"
_COURSE = "{course}"


def report_labels(language: str | None = None) -> ReportLabels:
    """Columns, sheets and chart labels in the language of whoever asked for the file (the
    update's unless `language` says)."""
    with speaking(language):
        return _report_labels()


def _report_labels() -> ReportLabels:
    return ReportLabels(
        student_columns=(
            t("files.student.student_id", html=False),
            t("files.student.student_number", html=False),
            t("files.student.name", html=False),
            t("files.student.sessions", html=False),
            t("files.student.present", html=False),
            t("files.student.late", html=False),
            t("files.student.excused", html=False),
            t("files.student.absent", html=False),
            t("files.student.attendance_percent", html=False),
            t("files.student.grade", html=False),
            t("files.student.enrolled", html=False),
        ),
        session_columns=(
            t("files.session.session_id", html=False),
            t("files.session.title", html=False),
            t("files.session.started_at", zone=_ZONE, html=False),
            t("files.session.utc_offset", html=False),
            t("files.session.attended", html=False),
            t("files.session.late", html=False),
            t("files.session.absent", html=False),
            t("files.session.excused", html=False),
            t("files.session.attendance_percent", html=False),
        ),
        students_sheet=t("files.sheet.students", html=False),
        sessions_sheet=t("files.sheet.sessions", html=False),
        chart_x=t("files.chart.x", zone=_ZONE, html=False),
        chart_y=t("files.chart.y", html=False),
        chart_title=t("files.chart.title", course=_COURSE, html=False),
        chart_empty=t("files.chart.empty", html=False),
    )


def gradebook_header() -> list[str]:
    """The gradebook CSV's columns: names importers map, always in English."""
    with speaking(SOURCE_LANGUAGE):
        return [
            t("files.gradebook.student_number", html=False),
            t("files.gradebook.name", html=False),
            t("files.gradebook.grade", html=False),
        ]


def export_header(language: str | None = None) -> list[str]:
    """The columns of an attendance export (`services.export.rows_to_csv`), in the language
    of whoever asked for it (the update's unless `language` says)."""
    with speaking(language):
        return _export_header()


def _export_header() -> list[str]:
    return [
        t("files.export.session_id", html=False),
        t("files.export.session_title", html=False),
        t("files.export.teacher_id", html=False),
        t("files.export.student_id", html=False),
        t("files.export.student_name", html=False),
        t("files.export.checked_in_at", html=False),
        t("files.export.status", html=False),
    ]


#: Cyrillic letters in Latin, as Russian speakers usually spell them (ъ and ь dropped), so a
#: course's file is named `attendance-Matanaliz.xlsx`.
# fmt: off
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi",
    "є": "ye", "ґ": "g", "ў": "u",
}
# fmt: on


def file_slug(name: str) -> str:
    """A course's name as a file-name part in plain Latin letters and digits (mail clients
    and Windows mangle others): accents dropped, Cyrillic transliterated, anything else a
    hyphen; "course" when nothing is left (a name in another script)."""
    latin = []
    for char in name:
        lower = char.lower()
        if lower in _CYRILLIC:
            spelled = _CYRILLIC[lower]
            latin.append(spelled.capitalize() if char != lower else spelled)
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            latin.extend(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9]+", "-", "".join(latin)).strip("-") or "course"
