"""Replies about attendance: the course report, a student's history, nudges."""

from __future__ import annotations

from bot.replies.format import fit, more
from bot.telegram_limits import ShortList
from bot.text import Named, Raw, Text, constants, t
from services.models import Nudge, StudentStanding
from services.reports import CourseReport, HistoryLine

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "REPORT_WHICH_COURSE": "report.which_course",
}
__getattr__ = constants(CONSTANTS)
#: Where the rows go in the table message (a character no message contains).
_ROWS = "\x00"


def nudge_text(nudge: Nudge) -> Text:
    return t(
        "nudge",
        course=nudge.course_name,
        percent=f"{nudge.percent:.0f}",
        threshold=nudge.threshold,
    )


def _name_cell(name: str) -> str:
    return f"{name if len(name) <= 18 else name[:17] + '…':<18}"


def _table_header() -> Text:
    def cell(column: str, width: int = 3) -> str:
        return f"{t('report.col.' + column, html=False):>{width}}"

    return t(
        "report.row",
        name=_name_cell(t("report.col.name", html=False)),
        sessions=cell("sessions"),
        present=cell("present"),
        late=cell("late"),
        excused=cell("excused"),
        absent=cell("absent"),
        percent=cell("percent", 5),
    )


def _standing_row(s: StudentStanding) -> Text:
    return t(
        "report.row",
        name=_name_cell(s.name),
        sessions=f"{s.sessions:>3}",
        present=f"{s.present:>3}",
        late=f"{s.late:>3}",
        excused=f"{s.excused:>3}",
        absent=f"{s.absent:>3}",
        percent=f"{s.percent:>5.1f}",
    )


def report_text(report: CourseReport) -> Text:
    head = t(
        "report.heading",
        course=report.course.name,
        sessions=t("report.sessions", count=len(report.sessions)),
        students=t("plural.students", count=len(report.standings)),
    )
    if not report.standings:
        return fit([head, t("report.nobody_joined")])
    rows = [_standing_row(s) for s in report.standings]
    # The rows go between the table's opening and closing, shortened to fit if need be.
    opening, closing = t("report.table", header=_table_header(), rows=Raw(_ROWS)).split(_ROWS)
    table = ShortList(opening, rows, "\n", more("report.table_more"), cap=40, closing=closing)
    return fit([head, table])


def history_text(lines: list[HistoryLine]) -> Text:
    if not lines:
        return t("history.none")
    parts = []
    for line in lines:
        s = line.standing
        if s is None or s.sessions == 0:
            parts.append(t("history.no_sessions", course=line.course.name))
            continue
        parts.append(
            t(
                "history.line",
                course=line.course.name,
                percent=f"{s.percent:.0f}",
                present=s.present,
                late=s.late,
                excused=s.excused,
                absent=s.absent,
                sessions=s.sessions,
            )
        )
    return fit([ShortList(t("history.heading"), parts, "\n", more("history.more"))])
