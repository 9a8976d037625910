"""Replies about attendance: the course report, a student's history, nudges."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from bot.replies.format import fit, more
from bot.replies.grading import grade_number, history_grade
from bot.replies.roster import unclaimed_list
from bot.telegram_limits import ShortList
from bot.text import Named, Raw, Text, constants, join, t
from services.models import Nudge
from services.reports import CourseReport, HistoryLine

#: Named texts, rendered when read (in the reader's language); (key, False): plain text.
CONSTANTS: dict[str, Named] = {
    "REPORT_WHICH_COURSE": "report.which_course",
}
__getattr__ = constants(CONSTANTS)


def nudge_text(nudge: Nudge) -> Text:
    return t(
        "nudge",
        course=nudge.course_name,
        percent=f"{nudge.percent:.0f}",
        threshold=nudge.threshold,
    )


#: The width of a phone's screen in a monospaced font: every line of the report fits it.
PHONE_WIDTH = 35
#: Students per page of the report (each page edits the same message).
REPORT_PAGE_SIZE = 25
_COUNTS = ("present", "late", "excused", "absent")


def report_pages(report: CourseReport) -> int:
    """How many pages the report's table has (at least one)."""
    return max(1, -(-len(report.standings) // REPORT_PAGE_SIZE))


def _cell(text: str, width: int) -> str:
    return f"{text if len(text) <= width else text[: width - 1] + '…':<{width}}"


#: The grade column: `100` or `—`, right-aligned.
GRADE_WIDTH = 3


def _row(percent: str, grade: str, counts: Sequence[str], name: str, width: int) -> Text:
    """One line of the table: the rate and the grade first, the counts, then the name cut
    to fit."""
    room = PHONE_WIDTH - 5 - (GRADE_WIDTH + 1) - len(counts) * (width + 1)
    present, late, excused, absent = (f"{c:>{width}}" for c in counts)
    return t(
        "grading.report_row",
        percent=f"{percent:>4}",
        grade=f"{grade:>{GRADE_WIDTH}}",
        present=present,
        late=late,
        excused=excused,
        absent=absent,
        name=_cell(name, room).rstrip(),
    )


def report_text(report: CourseReport, page: int = 0) -> Text:
    """One page of the report, every line at most PHONE_WIDTH characters wide: one line per
    student, the attendance rate first (the spreadsheet has every column in full)."""
    title = t("report.title", course=report.course.name, html=False)
    head = t(
        "report.heading",
        title="\n".join(textwrap.wrap(title, PHONE_WIDTH)),
        sessions=t("report.sessions", count=len(report.sessions)),
        students=t("plural.students", count=sum(s.enrolled for s in report.standings)),
    )
    if not report.standings:
        return fit([head, t("report.nobody_joined")])
    pages = report_pages(report)
    page = min(max(page, 0), pages - 1)
    shown = report.standings[page * REPORT_PAGE_SIZE : (page + 1) * REPORT_PAGE_SIZE]
    heads = [t(f"report.col.{column}", html=False) for column in _COUNTS]
    biggest = max(max(s.present, s.late, s.excused, s.absent) for s in report.standings)
    # The count columns are as wide as their largest number or their head, whichever is wider.
    width = max(len(str(biggest)), *(len(head) for head in heads))
    header = _row(
        t("report.col.percent", html=False),
        t("grading.col.grade", html=False),
        heads,
        t("report.col.name", html=False),
        width,
    )
    rows = [
        _row(
            f"{s.percent:.0f}%",
            grade_number(report.grade(s)),
            [str(getattr(s, column)) for column in _COUNTS],
            s.name if s.enrolled else t("report.left_name", name=s.name, html=False),
            width,
        )
        for s in shown
    ]
    table = t("report.table", header=header, rows=Raw("\n".join(rows)))
    blocks: list[Text | ShortList] = [head, join([t("report.legend"), t("grading.legend")]), table]
    if not all(s.enrolled for s in shown):  # removed or left: their records are kept
        blocks.insert(2, t("report.left_legend"))
    if report.unclaimed:  # imported places nobody claimed: counted absent above
        blocks.append(unclaimed_list(report.unclaimed))
    if pages > 1:
        blocks.append(t("report.page", page=page + 1, pages=pages))
    return fit(blocks)


def _whole(rate: Decimal | None, fallback: float) -> str:
    """A rate as a whole percent (half up), the standing's own when no grade was made."""
    if rate is None:
        return f"{fallback:.0f}"
    return str(rate.to_integral_value(ROUND_HALF_UP))


def history_text(lines: list[HistoryLine]) -> Text:
    if not lines:
        return t("history.none")
    parts = []
    for line in lines:
        s = line.standing
        if s is None or s.sessions == 0:
            parts.append(t("history.no_sessions", course=line.course.name))
            continue
        line_text = t(
            "history.line",
            course=line.course.name,
            percent=_whole(line.grade.rate if line.grade else None, s.percent),
            present=s.present,
            late=s.late,
            excused=s.excused,
            absent=s.absent,
            sessions=s.sessions,
        )
        parts.append(join([line_text, history_grade(line.course, line.policy, line.grade)]))
    return fit([ShortList(t("history.heading"), parts, "\n", more("history.more"))])
