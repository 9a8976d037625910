"""The card's Projector button: only when the web features are on, only on a private card,
and "New projector link" replaces the link (the old one is refused at once)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.cards import refresh_cards
from bot.container import Services
from services.clock import ManualClock
from services.projector import ProjectorService
from tests.bot.test_card import buttons
from tests.conftest import TEACHER_ID, TOKEN, make_settings
from tests.support.bot_harness import BOT_USERNAME, BotHarness

BASE = "https://attn.example.edu"
GROUP = -100_4242
LINK = re.compile(rf"{re.escape(BASE)}/projector/([0-9a-f]{{12}})/([A-Za-z0-9_-]{{24}})")


def web_on(services: Services, clock: ManualClock) -> None:
    """The services as `ATTN_PUBLIC_URL=https://attn.example.edu` wires them."""
    services.projector = ProjectorService(
        sessions=services.live.sessions,
        checkins=services.live.checkins,
        projector=services.live.projector,
        clock=clock,
        secret=TOKEN.encode(),
        public_url=BASE,
    )


@pytest.fixture
async def web_bot(services: Services, clock: ManualClock) -> AsyncIterator[BotHarness]:
    web_on(services, clock)
    async with BotHarness(make_settings(), services) as harness:
        yield harness


async def test_no_projector_button_when_the_web_is_off(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/start_session 30 Optics")
    posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
    labels = [b["text"] for b in buttons(posted)]
    assert labels == ["End now", "+5 min", "Show list"]
    assert "projector" not in str(posted.params).lower()


async def test_an_old_projector_button_says_the_web_is_off(bot: BotHarness) -> None:
    """A card posted while ATTN_PUBLIC_URL was set, pressed after a restart without it."""
    await bot.send(TEACHER_ID, "/start_session 30 Optics")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    generation = session.projector_generation
    before = len(bot.request.calls)
    await bot.press(TEACHER_ID, f"cd:proj:{session.id}")
    [answer] = [c for c in bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert "not set up on this server" in answer.params["text"] and answer.params["show_alert"]
    renewed = await bot.services.sessions.open_session(TEACHER_ID)
    assert renewed is not None and renewed.projector_generation == generation


async def test_the_private_card_links_to_its_projector_page(
    web_bot: BotHarness, clock: ManualClock
) -> None:
    await web_bot.send(TEACHER_ID, "/start_session 30 Optics")
    posted = next(c for c in web_bot.request.calls if c.method == "sendPhoto")
    by_label = {b["text"]: b for b in buttons(posted)}
    assert list(by_label) == ["End now", "+5 min", "Show list", "📽 Projector", "New projector link"]
    link = LINK.fullmatch(by_label["📽 Projector"]["url"])
    assert link
    session = await web_bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and link[1] == session.id
    view = await web_bot.services.projector.view(link[1], link[2])
    assert view is not None and view.code == session.code

    # "New projector link": the old link is refused at once, the card shows the new one.
    before = len(web_bot.request.calls)
    await web_bot.press(TEACHER_ID, by_label["New projector link"]["callback_data"])
    [answer] = [c for c in web_bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert "old one stop" in answer.params["text"] and answer.params.get("show_alert")
    assert await web_bot.services.projector.view(link[1], link[2]) is None
    clock.advance(seconds=5)  # the card's edits are paced
    await refresh_cards(web_bot.app.context_types.context(web_bot.app))
    edits = [c for c in web_bot.request.calls if c.method == "editMessageCaption"]
    assert edits
    new = {b["text"]: b for b in buttons(edits[-1])}["📽 Projector"]["url"]
    renewed = LINK.fullmatch(new)
    assert renewed and renewed[2] != link[2]
    assert await web_bot.services.projector.view(renewed[1], renewed[2]) is not None

    # Someone else's press (a forwarded card) replaces nothing.
    before = len(web_bot.request.calls)
    await web_bot.press(81, by_label["New projector link"]["callback_data"])
    answers = [c for c in web_bot.request.calls[before:] if c.method == "answerCallbackQuery"]
    assert answers and answers[0].params.get("show_alert")
    assert await web_bot.services.projector.view(renewed[1], renewed[2]) is not None


async def test_a_group_card_never_carries_the_projector_link(web_bot: BotHarness) -> None:
    await web_bot.send(
        TEACHER_ID,
        f"/start_session@{BOT_USERNAME} 30 Seminar",
        chat_id=GROUP,
        chat_type="group",
    )
    group_card = next(
        c
        for c in web_bot.request.calls
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(GROUP)
    )
    assert "projector" not in str(group_card.params).lower()
    assert all("Projector" not in b["text"] for b in buttons(group_card))
    code_card = next(
        c
        for c in web_bot.request.calls
        if c.method == "sendPhoto" and int(c.params["chat_id"]) == TEACHER_ID
    )
    urls = [b.get("url", "") for b in buttons(code_card)]
    assert any(LINK.fullmatch(url) for url in urls)
