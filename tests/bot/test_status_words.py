"""/mark's reply names statuses in the teacher's language (the catalog's `status.*`), not the
English the parser reads (`AttendanceStatus.value`)."""

from __future__ import annotations

import re

import pytest

from bot.text import available_languages, t
from services.models import AttendanceStatus
from tests.bot.test_courses import STUDENTS, enrol_all, new_course, open_session
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

EXPECTED = {
    "en": ("absent", "excused", "present"),
    "ru": ("отсутствие", "уважительная причина", "присутствие"),
    "es": ("ausente", "justificada", "presente"),
    "fa": ("غایب", "غیبت موجه", "حاضر"),
}


@pytest.mark.parametrize("language", ["en", "ru", "es", "fa"])
async def test_mark_names_statuses_in_the_teachers_language(bot: BotHarness, language: str) -> None:
    assert language in available_languages()  # every shipped language, never skipped
    absent, excused, present = EXPECTED[language]
    _, link = await new_course(bot)
    student = STUDENTS[0]
    await enrol_all(bot, link, [student])
    await open_session(bot)
    [first] = await bot.send(TEACHER_ID, f"/mark S{student} excused", language_code=language)
    assert_valid_telegram_html(first)
    assert f" {absent} " in first and f"<b>{excused}</b>" in first, first
    [second] = await bot.send(TEACHER_ID, f"/mark S{student} present", language_code=language)
    assert f" {excused} " in second and f"<b>{present}</b>" in second, second
    if language != "en":  # no English status word left in the reply
        for word in ("absent", "excused", "present", "late"):
            assert not re.search(rf"\b{word}\b", second, re.IGNORECASE), second


def test_every_status_has_a_word_in_every_language() -> None:
    for language in available_languages():
        words = {t(f"status.{status.value}", language=language) for status in AttendanceStatus}
        assert len(words) == len(AttendanceStatus), language
