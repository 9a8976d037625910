"""Each user is answered in their language: their Telegram `language_code` (first subtag), else
the installation's default; a test-only translation stands in for the real files, so the
mechanism is tested whichever `.po` files are present."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.container import Services
from bot.languages import RecipientLanguages
from bot.menus import GROUP_MENU
from bot.notifier import TelegramNotifier
from bot.text import speaking, t
from bot.text.catalogs import LOCALES
from services.clock import ManualClock
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.telegram import ApiCall
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


def _menus(bot: BotHarness, method: str = "setMyCommands") -> dict[tuple[str, str], ApiCall]:
    """The last call of `method` per (scope type, language_code), as Telegram keeps them."""
    found: dict[tuple[str, str], ApiCall] = {}
    for call in bot.request.calls:
        if call.method == method and call.status == 200:
            scope = call.params.get("scope", {}).get("type", "default")
            found[(scope, call.params.get("language_code", ""))] = call
    return found


async def test_menus_and_descriptions_are_set_per_language_and_scope(
    services: Services, tmp_path: Path
) -> None:
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]"), yy=pseudo_po("yy", "[yy]")):
        async with BotHarness(make_settings(default_language="yy"), services) as bot:
            menus = _menus(bot)
            descriptions = _menus(bot, "setMyDescription")
            shorts = _menus(bot, "setMyShortDescription")
    languages = {"", "en", "xx", "yy"}
    assert set(menus) == {(s, code) for s in ("default", "all_group_chats") for code in languages}
    assert set(descriptions) == set(shorts) == {("default", code) for code in languages}
    group = [c["command"] for c in menus[("all_group_chats", "xx")].params["commands"]]
    assert set(group) == set(GROUP_MENU) and "start_session" in group
    private = [c["command"] for c in menus[("default", "xx")].params["commands"]]
    assert "checkin" in private and "start_session" not in private
    for code, mark in (("xx", "[xx] "), ("", "[yy] "), ("yy", "[yy] ")):
        for call in (menus[("default", code)], menus[("all_group_chats", code)]):
            assert all(c["description"].startswith(mark) for c in call.params["commands"])
        assert descriptions[("default", code)].params["description"].startswith(mark)
        assert shorts[("default", code)].params["short_description"].startswith(mark)
    english = menus[("default", "en")].params["commands"]
    assert not any(c["description"].startswith("[") for c in english)
    # The teacher's own menu is in their language (their Telegram app's here: none known, so
    # the installation's default).
    [teacher] = [
        c
        for c in bot.request.calls
        if c.method == "setMyCommands" and c.params.get("scope", {}).get("chat_id") == TEACHER_ID
    ]
    assert "language_code" not in teacher.params
    assert all(c["description"].startswith("[yy] ") for c in teacher.params["commands"])


async def test_a_teachers_menu_follows_their_language(bot: BotHarness, tmp_path: Path) -> None:
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]")):
        # Their first message to this process: their menu is checked, and set again since
        # the one set at start-up was in another language.
        await bot.send(TEACHER_ID, "/help", language_code="xx")
        [*_, last] = [
            c
            for c in bot.request.calls
            if c.method == "setMyCommands"
            and c.params.get("scope", {}).get("chat_id") == TEACHER_ID
        ]
    assert all(c["description"].startswith("[xx] ") for c in last.params["commands"])


async def test_a_queued_summary_goes_out_in_the_teachers_language(
    bot: BotHarness, clock: ManualClock, tmp_path: Path
) -> None:
    """The delivery job writes to the teacher: their language, not the job's (there is no
    update) nor the last sender's; its CSV's columns too."""
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]"), yy=pseudo_po("yy", "[yy]")):
        [card] = await bot.send(TEACHER_ID, "/start_session 30 Quiz", language_code="xx")
        assert card.startswith("[xx] ")
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        await bot.send(STUDENT, f"/checkin {session.code}", language_code="yy")
        await bot.services.sessions.end_session(TEACHER_ID)  # ended elsewhere: no update
        clock.advance(minutes=1)
        await bot.services.sweeper.sweep_attendances()
        since = len(bot.request.calls)
        with speaking("yy"):  # whatever the job's task speaks
            notifier = TelegramNotifier(
                bot.app.bot, bot.services_tz, RecipientLanguages(bot.services.users)
            )
            await bot.services.sweeper.deliver_summaries(notifier)
        calls = bot.request.calls[since:]
    [summary] = [c for c in calls if c.method == "sendMessage"]
    assert summary.params["chat_id"] == TEACHER_ID and summary.text.startswith("[xx] ")
    [csv] = [c for c in calls if c.method == "sendDocument"]
    [(_name, data)] = csv.params["_files"].values()
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("[xx] ") and "[yy]" not in header
