"""The words of the files a teacher gets, from the catalog, for the services that write them
(services hold no user text: the bot passes these in)."""

from __future__ import annotations

from bot.text import t
from bot.text.catalogs import SOURCE_LANGUAGE
from services.report_files import ReportLabels

#: Stands for a value the file writer puts in later (the zone, the course's name).
_ZONE = "{zone}"
_COURSE = "{course}"


def report_labels(language: str | None = None) -> ReportLabels:
    """A report's headers, sheet names and chart labels in `language` (default: the asker's,
    the update's language): files follow the language of whoever asked for them."""

    return ReportLabels(
        student_columns=(
            t("files.student.student_id", html=False, language=language),
            t("files.student.student_number", html=False, language=language),
            t("files.student.name", html=False, language=language),
            t("files.student.sessions", html=False, language=language),
            t("files.student.present", html=False, language=language),
            t("files.student.late", html=False, language=language),
            t("files.student.excused", html=False, language=language),
            t("files.student.absent", html=False, language=language),
            t("files.student.attendance_percent", html=False, language=language),
        ),
        session_columns=(
            t("files.session.session_id", html=False, language=language),
            t("files.session.title", html=False, language=language),
            t("files.session.started_at", zone=_ZONE, html=False, language=language),
            t("files.session.utc_offset", html=False, language=language),
            t("files.session.attended", html=False, language=language),
            t("files.session.late", html=False, language=language),
            t("files.session.absent", html=False, language=language),
            t("files.session.excused", html=False, language=language),
            t("files.session.attendance_percent", html=False, language=language),
        ),
        students_sheet=t("files.sheet.students", html=False, language=language),
        sessions_sheet=t("files.sheet.sessions", html=False, language=language),
        chart_x=t("files.chart.x", zone=_ZONE, html=False, language=language),
        chart_y=t("files.chart.y", html=False, language=language),
        chart_title=t("files.chart.title", course=_COURSE, html=False, language=language),
        chart_empty=t("files.chart.empty", html=False, language=language),
    )


def export_header(language: str = SOURCE_LANGUAGE) -> list[str]:
    """The columns of an attendance export (`services.export.rows_to_csv`): English by default,
    machine-readable names that scripts and `attn export` users read."""

    return [
        t("files.export.session_id", html=False, language=language),
        t("files.export.session_title", html=False, language=language),
        t("files.export.teacher_id", html=False, language=language),
        t("files.export.student_id", html=False, language=language),
        t("files.export.student_name", html=False, language=language),
        t("files.export.checked_in_at", html=False, language=language),
        t("files.export.status", html=False, language=language),
    ]
