"""The teacher's live session card: paced edits, buttons checked on the server, group flow."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import timedelta

import pytest
from telegram.ext import CallbackContext

from bot.cards import refresh_cards
from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.telegram import ApiCall

EDITS = ("editMessageCaption", "editMessageMedia", "editMessageText")
GROUP = -100_123


def context_of(bot: BotHarness) -> CallbackContext:  # type: ignore[type-arg]
    return bot.app.context_types.context(bot.app)


def card_edits(bot: BotHarness, chat_id: int = TEACHER_ID) -> list[ApiCall]:
    return [
        c for c in bot.request.calls if c.method in EDITS and int(c.params["chat_id"]) == chat_id
    ]


def buttons(call: ApiCall) -> list[dict[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_100_check_ins_in_two_seconds_edit_the_card_sparingly(
    bot: BotHarness, clock: ManualClock
) -> None:
    [card] = await bot.send(TEACHER_ID, "/start_session 30 Burst fixed")
    posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
    assert_valid_telegram_html(card)
    assert "<b>0</b> checked in" in card and "Time left: 30 min" in card
    assert [b["text"] for b in buttons(posted)] == ["End now", "+5 min", "Show list"]
    assert posted.params["_files"]["photo"][1].startswith(b"\x89PNG")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code

    edit_times = []
    for student in range(100):
        await bot.send(70_000 + student, f"/checkin {code[1]}")
        clock.advance(milliseconds=20)  # 100 check-ins within 2 seconds
        before = len(card_edits(bot))
        await refresh_cards(context_of(bot))
        if len(card_edits(bot)) > before:
            edit_times.append(clock.now())
    assert edit_times == []  # the card was posted < 5 s ago: no edit yet
    for _ in range(3):
        clock.advance(seconds=3)
        before = len(card_edits(bot))
        await refresh_cards(context_of(bot))
        if len(card_edits(bot)) > before:
            edit_times.append(clock.now())
    assert len(edit_times) == 1  # changed once, edited once, however often refreshed
    latest = card_edits(bot)[-1]
    assert "<b>100</b> checked in" in latest.text
    assert latest.method == "editMessageCaption"  # same code: the QR image stays

    await bot.send(TEACHER_ID, "/end_session")
    final = card_edits(bot)[-1]
    assert "Ended — 100 checked in" in final.text
    assert not buttons(final)
    gaps = [b - a for a, b in itertools.pairwise(edit_times)]
    assert all(gap >= timedelta(seconds=5) for gap in gaps)


async def test_rotation_replaces_the_image_not_more_often(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.send(TEACHER_ID, "/start_session 30 Rotating rotate=30")
    media = []
    for _ in range(40):  # 2 minutes in 3-second steps
        clock.advance(seconds=3)
        await bot.services.rotation.rotate_due_codes()
        await refresh_cards(context_of(bot))
        media = [c for c in card_edits(bot) if c.method == "editMessageMedia"]
    assert 3 <= len(media) <= 4  # one new image per 30-second code, never more


async def test_card_buttons(bot: BotHarness, clock: ManualClock) -> None:
    [created] = await bot.send(TEACHER_ID, "/new_course Chem")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    for student, name in ((81, "Marie Curie"), (82, "Rosalind Franklin"), (83, "Dorothy Hodgkin")):
        await bot.send(student, f"/join {join[1]}")
        await bot.send(student, name)
    [card] = await bot.send(TEACHER_ID, "/start_session Chem 20 fixed")
    assert "<b>0 / 3</b> checked in" in card
    posted = [c for c in bot.request.calls if c.method == "sendPhoto"][-1]
    data = {b["text"]: b["callback_data"] for b in buttons(posted)}
    assert set(data) == {"End now", "+5 min", "Who is missing", "Show list"}
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code
    await bot.send(81, f"/checkin {code[1]}")

    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    # Anyone but the teacher, with real or hand-made data, is refused and changes nothing.
    for presser, forged in (
        (81, data["End now"]),
        (81, data["+5 min"]),
        (82, data["Who is missing"]),
        (TEACHER_ID, "cd:end:ffffffffffff"),
        (TEACHER_ID, "cd:nuke:" + session.id),
        (TEACHER_ID, data["End now"] + "x"),
    ):
        before = len(bot.request.calls)
        await bot.press(presser, forged)
        answers = [c for c in bot.request.calls[before:] if c.method == "answerCallbackQuery"]
        assert answers and answers[0].params.get("show_alert"), forged
    still = await bot.services.sessions.open_session(TEACHER_ID)
    assert still is not None and still.ends_at == session.ends_at

    await bot.press(TEACHER_ID, data["+5 min"])
    extended = await bot.services.sessions.open_session(TEACHER_ID)
    assert extended is not None and extended.ends_at == session.ends_at + timedelta(minutes=5)

    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, data["Who is missing"])
    [missing] = [c.text for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert "Rosalind Franklin" in missing and "Dorothy Hodgkin" in missing
    assert "Marie Curie" not in missing

    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, data["Show list"])
    [present] = [c.text for c in bot.request.calls[before:] if c.method == "sendMessage"]
    assert "Marie Curie" in present and "Rosalind" not in present

    await bot.press(TEACHER_ID, data["End now"])
    assert await bot.services.sessions.open_session(TEACHER_ID) is None
    final = card_edits(bot)[-1]
    assert "Ended — 1 / 3 checked in" in final.text and not buttons(final)


async def test_group_flow_never_puts_a_code_into_the_group(
    bot: BotHarness, clock: ManualClock
) -> None:
    await bot.send(TEACHER_ID, "/start")  # the summary goes to the teacher's private chat
    await bot.send(TEACHER_ID, "/start_session 20 Seminar", chat_id=GROUP, chat_type="group")
    group_card = next(
        c for c in bot.request.calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP
    )
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.code not in group_card.text
    link = next(b["url"] for b in buttons(group_card) if "url" in b)
    assert link.endswith(f"start=cg_{session.id}") and session.code not in link

    # A student taps the card's button: the private chat asks for the code.
    [ask] = await bot.send(91, f"/start cg_{session.id}")
    assert "Send me the code" in ask
    [done] = await bot.send(91, session.code)
    assert "Checked in" in done
    # Another checks in from the group, with privacy mode on (/checkin@bot): answered privately
    # (they opened a private chat with the bot before: a bot cannot write first).
    await bot.send(92, "/start")
    await bot.send(92, f"/checkin@attn_test_bot {session.code}", chat_id=GROUP, chat_type="group")
    private = [c.text for c in bot.request.sent(92)]
    assert any("Checked in" in t for t in private)
    assert any(c.method == "deleteMessage" for c in bot.request.calls)  # their code-bearing post
    await bot.send(93, "/checkin@attn_test_bot WRONG1", chat_id=GROUP, chat_type="group")

    clock.advance(seconds=6)
    await refresh_cards(context_of(bot))
    await bot.send(TEACHER_ID, "/end_session", chat_id=GROUP, chat_type="group")
    clock.advance(minutes=1)
    from bot.notifier import TelegramNotifier

    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    into_group = [
        c
        for c in bot.request.calls
        if c.params.get("chat_id") == GROUP and c.method in ("sendMessage", *EDITS)
    ]
    assert into_group
    for call in into_group:
        assert session.code not in call.text and "Checked in to" not in call.text
    assert "Ended — 2 checked in — summary sent" in into_group[-1].text
    summary = [t for t in bot.request.texts(TEACHER_ID) if "Summary" in t]
    assert len(summary) == 1  # to the teacher privately, not into the group


async def test_two_processes_edit_one_card_once(
    bot: BotHarness, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    """A second bot process (its own Application and connections, same Redis and PostgreSQL)
    refreshing the same cards at the same moment: each change is edited by one of them."""
    from tests.conftest import make_settings, services_on_the_same_stores

    other_services = await services_on_the_same_stores(request, clock)
    try:
        async with BotHarness(make_settings(), other_services) as other:
            [card] = await bot.send(TEACHER_ID, "/start_session 30 Twice fixed")
            code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
            assert code
            for step in range(6):
                await bot.send(71_000 + step, f"/checkin {code[1]}")
                clock.advance(seconds=5)
                await asyncio.gather(
                    refresh_cards(context_of(bot)), refresh_cards(context_of(other))
                )
            mine = [c for c in bot.request.calls if c.method in EDITS]
            theirs = [c for c in other.request.calls if c.method in EDITS]
            assert len(mine) + len(theirs) == 6  # one edit per change, never two
            counts = sorted(re.search(r"<b>(\d+)</b>", c.text)[1] for c in mine + theirs)  # type: ignore[index]
            assert counts == ["1", "2", "3", "4", "5", "6"]
    finally:
        await other_services.close()


async def test_card_heading_names_the_course_once_and_survives_the_summary(
    bot: BotHarness, clock: ManualClock
) -> None:
    """The default title already starts with the course's name: the heading is that title
    alone (never "Physics · Physics 2026-…"); a title of its own gets "Course · Title", on
    the live card, the ended card and the card made final after the summary."""
    from bot.notifier import TelegramNotifier

    await bot.send(TEACHER_ID, "/new_course Physics")
    [card] = await bot.send(TEACHER_ID, "/start_session Physics 20")
    day = f"{clock.now():%Y-%m-%d}"
    assert card.startswith(f"<b>Physics {day}</b>"), card
    assert "Physics · Physics" not in card
    await bot.send(TEACHER_ID, "/end_session")

    clock.advance(minutes=1)
    [card] = await bot.send(TEACHER_ID, "/start_session Physics 20 Lab 3")
    assert card.startswith("<b>Physics · Lab 3</b>"), card
    await bot.send(TEACHER_ID, "/end_session")
    assert card_edits(bot)[-1].text.startswith("<b>Physics · Lab 3</b>\nEnded")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    finals = {c.text.split("\n")[0] for c in card_edits(bot) if "summary sent" in c.text}
    assert finals == {"<b>Physics · Lab 3</b>", f"<b>Physics {day}</b>"}, finals
