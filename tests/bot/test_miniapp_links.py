"""With the web server on, the card's QR and the group card's button open the Mini App
(`startapp`) when the bot has one (a main Mini App in @BotFather, or a named one), else the
chat (`start`), which checks in; the code stays on the card for the chat, and the chat path
stays whole."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from bot.cards import MINI_APP_KEY, MiniAppRoute
from bot.container import Services
from tests.bot.test_card import GROUP, buttons
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall


def qr_text(call: ApiCall) -> str:
    """The text of the QR the bot uploaded with this call."""
    _name, content = next(iter(call.params["_files"].values()))
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))
    return str(barcode.text)


async def test_the_qr_opens_the_main_mini_app_and_the_chat_still_works(
    services: Services,
) -> None:
    async with BotHarness(make_settings(), services, main_web_app=True) as bot:
        bot.app.bot_data[MINI_APP_KEY] = MiniAppRoute()
        [card] = await bot.send(TEACHER_ID, "/start_session 30 Optics")
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None and f"<code>{session.code}</code>" in card
        posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
        link = qr_text(posted)
        assert link == f"https://t.me/attn_test_bot?startapp=ci_{session.id}-{session.code}"
        # The chat path is unchanged: the code typed, and the old start link, check in.
        checked = await bot.send(501, f"/checkin {session.code}")
        assert "Checked in to <b>Optics</b>" in checked[0]
        [scanned] = await bot.send(502, f"/start ci_{session.id}-{session.code}")
        assert "Checked in to <b>Optics</b>" in scanned


async def test_without_a_main_mini_app_the_qr_and_button_check_in_through_the_chat(
    bot: BotHarness,
) -> None:
    """The web is on, but getMe says the bot has no main Mini App (a new bot's answer) and
    none is named: a `startapp` link would open the chat and drop the code, so the QR and
    the group button carry the chat's links, and scanning the QR checks in."""
    assert bot.app.bot.bot.has_main_web_app is False
    bot.app.bot_data[MINI_APP_KEY] = MiniAppRoute(page_url="https://attn.example.edu/miniapp")
    await bot.send(TEACHER_ID, "/start")
    await bot.send(TEACHER_ID, "/start_session 20 Seminar", chat_id=GROUP, chat_type="group")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    group_card = next(
        c for c in bot.request.calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP
    )
    assert next(b["url"] for b in buttons(group_card) if "url" in b) == (
        f"https://t.me/attn_test_bot?start=cg_{session.id}"
    )
    code_card = next(c for c in bot.request.calls if c.method == "sendPhoto")
    scanned = qr_text(code_card)
    assert scanned == f"https://t.me/attn_test_bot?start=ci_{session.id}-{session.code}"
    # What Telegram sends when a student opens that link: /start with its parameter.
    [answer] = await bot.send(503, "/start " + scanned.split("?start=", 1)[1])
    assert "Checked in to <b>Seminar</b>" in answer


async def test_a_named_mini_app_and_the_group_button(bot: BotHarness) -> None:
    bot.app.bot_data[MINI_APP_KEY] = MiniAppRoute("checkin")
    await bot.send(TEACHER_ID, "/start")
    await bot.send(TEACHER_ID, "/start_session 20 Seminar", chat_id=GROUP, chat_type="group")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    group_card = next(
        c for c in bot.request.calls if c.method == "sendMessage" and c.params["chat_id"] == GROUP
    )
    link = next(b["url"] for b in buttons(group_card) if "url" in b)
    assert link == f"https://t.me/attn_test_bot/checkin?startapp=cg_{session.id}"
    assert session.code not in link and session.code not in group_card.text
    code_card = next(c for c in bot.request.calls if c.method == "sendPhoto")
    assert re.fullmatch(
        rf"https://t\.me/attn_test_bot/checkin\?startapp=ci_{session.id}-{session.code}",
        qr_text(code_card),
    )


async def test_without_the_web_the_links_are_the_chats(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/start_session 30 Plain")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
    assert qr_text(posted) == f"https://t.me/attn_test_bot?start=ci_{session.id}-{session.code}"


async def test_checkin_alone_offers_the_mini_app_in_the_private_chat(bot: BotHarness) -> None:
    [plain] = await bot.send(601, "/checkin")
    assert "Send me the code" in plain
    assert "reply_markup" not in bot.request.calls[-1].params  # the web is off: no button
    await bot.send(601, "/cancel")
    bot.app.bot_data[MINI_APP_KEY] = MiniAppRoute(page_url="https://attn.example.edu/miniapp")
    [ask] = await bot.send(602, "/checkin")
    assert "Send me the code" in ask
    [[button]] = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"]
    assert button == {
        "text": "📷 Scan it in the app",
        "web_app": {"url": "https://attn.example.edu/miniapp"},
    }
    # The chat still takes the code as the answer.
    await bot.send(TEACHER_ID, "/start_session 30 Optics")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    [done] = await bot.send(602, session.code)
    assert "Checked in to <b>Optics</b>" in done


async def test_the_public_url_turns_the_mini_app_links_on(services: Services) -> None:
    settings = make_settings(public_url="https://attn.example.edu/", miniapp_short_name="checkin")
    async with BotHarness(settings, services) as bot:
        route = bot.app.bot_data[MINI_APP_KEY]
        assert route == MiniAppRoute("checkin", "https://attn.example.edu/miniapp")
        await bot.send(TEACHER_ID, "/start_session 30 Optics")
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        posted = next(c for c in bot.request.calls if c.method == "sendPhoto")
        assert qr_text(posted) == (
            f"https://t.me/attn_test_bot/checkin?startapp=ci_{session.id}-{session.code}"
        )
    async with BotHarness(make_settings(), services) as off:
        assert MINI_APP_KEY not in off.app.bot_data
