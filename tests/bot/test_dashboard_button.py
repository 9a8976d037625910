"""/courses opens the teacher dashboard with a web_app button when the web is on (issue 16)."""

from __future__ import annotations

from bot.cards import MINI_APP_KEY, MiniAppRoute
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness


async def test_courses_offers_the_dashboard_only_with_the_web_on(bot: BotHarness) -> None:
    await bot.send(TEACHER_ID, "/new_course Optics")
    await bot.send(TEACHER_ID, "/courses")
    assert "reply_markup" not in bot.request.calls[-1].params  # the web is off: no button
    bot.app.bot_data[MINI_APP_KEY] = MiniAppRoute(page_url="https://attn.example.edu/miniapp")
    [listed] = await bot.send(TEACHER_ID, "/courses")
    assert "Optics" in listed
    [[button]] = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"]
    assert button == {
        "text": "📊 Open the dashboard",
        "web_app": {"url": "https://attn.example.edu/app/teacher"},
    }
