"""Each user is answered in their language: their Telegram `language_code` (first subtag), else
the installation's default; a test-only translation stands in for the real files, so the
mechanism is tested whichever `.po` files are present."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.text import t
from bot.text.catalogs import LOCALES
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.translations import locales, pseudo_po

STUDENT = 5001


async def _check_in_flow(bot: BotHarness, language_code: str) -> list[str]:
    [started] = await bot.send(TEACHER_ID, "/start_session 15 Math")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.code in started
    replies = []
    replies += await bot.send(STUDENT, "/checkin", language_code=language_code)
    replies += await bot.send(STUDENT, session.code, language_code=language_code)
    replies += await bot.send(STUDENT, f"/checkin {session.code}", language_code=language_code)
    replies += await bot.send(STUDENT, "hello", language_code=language_code)
    assert len(replies) == 4
    assert not started.startswith("[")  # the teacher's language is English
    return replies


@pytest.mark.parametrize("language_code", ["xx", "xx-YY"])
async def test_a_student_gets_the_check_in_flow_in_their_language(
    bot: BotHarness, tmp_path: Path, language_code: str
) -> None:
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]")):
        replies = await _check_in_flow(bot, language_code)
    for reply in replies:
        assert reply.startswith("[xx] "), reply
        assert_valid_telegram_html(reply)


async def test_a_language_without_a_catalog_gets_the_default(
    bot: BotHarness, tmp_path: Path
) -> None:
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]")):
        replies = await _check_in_flow(bot, "zz")
    assert replies[0].startswith(t("checkin.ask_code", language="en"))
    assert not any(reply.startswith("[xx]") for reply in replies)


@pytest.mark.skipif(not (LOCALES / "ru.po").exists(), reason="ru.po not on this branch yet")
async def test_a_russian_student_gets_the_check_in_flow_in_russian(bot: BotHarness) -> None:
    replies = await _check_in_flow(bot, "ru")
    russian = t("checkin.ask_code", language="ru")
    assert replies[0].startswith(russian) and russian != t("checkin.ask_code", language="en")
    for reply in replies:
        assert any("\u0400" <= char <= "\u04ff" for char in reply), reply
