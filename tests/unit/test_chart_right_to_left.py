"""A Persian teacher's chart reads right to left with joined letters. Matplotlib >= 3.11 lays
text out with libraqm (HarfBuzz shaping, FriBidi ordering), so the labels are handed to it in
logical order, as the catalog has them: shaping or reordering them first (arabic-reshaper,
python-bidi) would reverse them a second time. The font (DejaVu Sans, matplotlib's default)
has every glyph: a missing one warns, and warnings are errors here."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from matplotlib import font_manager

from bot.replies.files import report_labels
from bot.text import available_languages, t
from services.models import Course
from services.report_files import report_chart, report_figure
from services.reports import CourseReport, SessionRate

TEHRAN = ZoneInfo("Asia/Tehran")
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif("fa" not in available_languages(), reason="no fa.po")


def _report(sessions: bool = True) -> CourseReport:
    course = Course(1, 7, "اخلاق Ethics", "ABCDEFGH", "join_x")
    rates = [
        SessionRate("s1", "هفتهٔ ۱", datetime(2026, 1, 12, 8, 15, tzinfo=UTC), 2, 3, 0, 1, 0),
        SessionRate("s2", "هفتهٔ ۲", datetime(2026, 1, 19, 8, 15, tzinfo=UTC), 1, 3, 0, 2, 0),
    ]
    return CourseReport(course, [], rates if sessions else [])


def test_persian_labels_reach_matplotlib_in_logical_order() -> None:
    [axes] = report_figure(_report(), report_labels("fa"), TEHRAN).axes
    assert axes.get_ylabel() == t("files.chart.y", html=False, language="fa")
    assert axes.get_title() == t(
        "files.chart.title", course="اخلاق Ethics", html=False, language="fa"
    )


def test_matplotlib_shapes_and_reorders_persian_itself() -> None:
    """The guarantee the charts rely on: matplotlib's own layout draws a Persian label right
    to left (its last letter first from the left) with joined (contextual) glyphs."""
    from matplotlib._text_helpers import layout

    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
    label = t("files.chart.y", html=False, language="fa")  # درصد حضور
    items = list(layout(label, font, language="fa"))
    drawn = "".join(item.char for item in items)
    assert drawn == label[::-1]  # no digits or Latin in it: visual order is the reverse
    nominal = {item.char: font.get_char_index(ord(item.char)) for item in items}
    joined = [item for item in items if item.glyph_index != nominal[item.char]]
    assert len(joined) >= 4, items  # ح ض و ص take their initial, medial or final forms
    assert all(item.glyph_index for item in items)  # no .notdef: the font has every glyph


@pytest.mark.parametrize("sessions", [True, False])
def test_a_persian_chart_draws_without_missing_glyphs(sessions: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
        png = report_chart(_report(sessions), report_labels("fa"), TEHRAN)
    assert png.startswith(PNG)
