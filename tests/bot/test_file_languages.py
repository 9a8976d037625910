"""Files follow the language of whoever asked for them: a Russian teacher's /report XLSX has
Russian column headers and sheet names; the operator's export stays machine-readable English."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.replies.files import export_header, report_labels
from bot.text import default_language, set_default_language
from bot.text.catalogs import LOCALES, SOURCE_LANGUAGE
from tests.bot.test_course_time_zones import sent_files
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness

pytestmark = pytest.mark.skipif(not (LOCALES / "ru.po").exists(), reason="no ru.po")


async def test_a_russian_teachers_report_has_russian_headers(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Math", language_code="ru")
    before = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/report", language_code="ru")
    [(name, xlsx), _, _] = sent_files(bot, before, TEACHER_ID)
    assert name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["Студенты", "Занятия"]
    students: list[Any] = [cell.value for cell in book["Студенты"][1]]
    assert students[2:5] == ["Студент", "Всего занятий", "Вовремя"]
    assert students[-3:] == ["Посещаемость, %", "Оценка", "На курсе"]
    sessions: list[Any] = [cell.value for cell in book["Занятия"][1]]
    assert sessions[2].startswith("Начало (") and sessions[-1] == "Посещаемость, %"
    # Every header is the Russian catalog's, none left in English.
    labels = report_labels("ru")
    assert students == list(labels.student_columns)
    english = report_labels("en")
    assert not set(labels.student_columns) & set(english.student_columns)


@pytest.mark.parametrize(
    ("language", "course", "expected"),
    [
        ("ru", "Матанализ", "attendance-Matanaliz.xlsx"),
        ("es", "Álgebra lineal", "asistencia-Algebra-lineal.xlsx"),
        ("fa", "ریاضی", "attendance-course.xlsx"),
    ],
)
async def test_report_files_have_latin_names_whatever_the_course_name(
    bot: BotHarness, language: str, course: str, expected: str
) -> None:
    """File names in plain Latin letters survive every mail client and file system: a
    Cyrillic course name is transliterated, accents dropped, another script left out."""
    await bot.send(TEACHER_ID, f"/new_course {course}", language_code=language)
    before = len(bot.request.calls)
    await bot.send(TEACHER_ID, f"/report {course}", language_code=language)
    [(xlsx, _), (gradebook, _), (chart, _)] = sent_files(bot, before, TEACHER_ID)
    assert xlsx == expected
    assert gradebook.isascii() and gradebook.endswith(".csv")
    assert chart.isascii() and chart.endswith(".png")


def test_the_operators_export_is_english_whatever_the_default_language() -> None:
    """`attn export` runs outside any update, in ATTN_DEFAULT_LANGUAGE: it asks for English."""
    previous = default_language()
    set_default_language("ru")
    try:
        assert report_labels().student_columns[2] == "Студент"  # the default, Russian
        assert report_labels(SOURCE_LANGUAGE).student_columns[2] == "name"
        assert export_header(SOURCE_LANGUAGE) == [
            "session_id",
            "session_title",
            "teacher_id",
            "student_id",
            "student_name",
            "checked_in_at",
            "status",
        ]
    finally:
        set_default_language(previous)
