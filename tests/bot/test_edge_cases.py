"""Edge cases nobody had tried: a session across a daylight-saving change in the course's
zone, /leave confirmed twice (a double tap), and /report's page buttons on a 300-student
course when the roster changed after the page was sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from services.clock import ManualClock
from services.models import UserProfile
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html
from tests.support.stored_tables import StoredTables

#: Madrid leaves summer time on 25 October 2026 at 01:00 UTC (03:00 CEST becomes 02:00 CET).
BEFORE_CHANGE = datetime(2026, 10, 25, 0, 55, tzinfo=UTC)  # 02:55 CEST
EARLY, LATE = 40_001, 40_002


async def new_course(bot: BotHarness, name: str) -> str:
    [made] = await bot.send(TEACHER_ID, f"/new_course {name}")
    join = re.search(r"/join ([A-Z0-9]{8})", made)
    assert join, made
    return join[1]


async def test_a_session_across_the_end_of_summer_time(bot: BotHarness, clock: ManualClock) -> None:
    """Started at 02:55 CEST, late after 10 minutes: late from 02:05 CET (ten real minutes
    later, the clock having gone back), ends 02:25 CET; a check-in at 02:00 CET is present,
    one at 02:06 CET late, each reply with the offset in force at that moment."""
    clock.set(BEFORE_CHANGE)
    join = await new_course(bot, "Optics")
    await bot.send(TEACHER_ID, "/course_settings Optics late 10 tz=Europe/Madrid")
    for student, name in ((EARLY, "Early Bird"), (LATE, "Late Comer")):
        await bot.services.courses.join_by_code(UserProfile(student, first_name=name), join)

    [card] = await bot.send(TEACHER_ID, "/start_session Optics 30 fixed")
    assert_valid_telegram_html(card)
    assert "until 02:25 CET" in card and "Late from 02:05 CET" in card, card
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code

    clock.advance(minutes=5)  # 01:00 UTC: 02:00 CET, five real minutes in
    [early] = await bot.send(EARLY, f"/checkin {code[1]}")
    assert "at 02:00 CET" in early and "late" not in early.lower(), early
    clock.advance(minutes=6)  # 01:06 UTC: 02:06 CET, eleven real minutes in
    [late] = await bot.send(LATE, f"/checkin {code[1]}")
    assert "02:06 CET" in late and "late" in late.lower(), late

    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.late_at is not None
    assert (session.late_at - session.started_at).total_seconds() == 600


async def test_leave_confirmed_twice_leaves_once(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    """A double tap on "yes": one departure, one audit row, and the second tap is told the
    student is not in that course any more, without changing anything."""
    join = await new_course(bot, "Optics")
    await bot.services.courses.join_by_code(UserProfile(EARLY, first_name="Early Bird"), join)
    [ask] = await bot.send(EARLY, "/leave")
    assert "Leave <b>Optics</b>?" in ask
    yes = bot.request.calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    [*_, message] = [m for m in bot.request.api.chat_messages(EARLY) if "reply_markup" in m]
    message_id = int(message["message_id"])
    await bot.press(EARLY, yes, message_id=message_id)
    since = len(bot.request.calls)
    await bot.press(EARLY, yes, message_id=message_id)
    second = [c.params for c in bot.request.calls[since:] if c.method == "answerCallbackQuery"]
    assert second and second[0].get("show_alert"), second
    assert "not enrolled" in second[0]["text"], second
    assert not [c for c in bot.request.calls[since:] if c.method != "answerCallbackQuery"]
    assert await stored_tables.rows("enrolments") == []
    audit = [r["action"] for r in await stored_tables.rows("course_audit")]
    assert audit == ["leave"]


async def test_report_pages_of_300_long_names_and_a_stale_page_button(
    bot: BotHarness,
) -> None:
    """300 students with long names: every page is within Telegram's 4,096 characters;
    Next and Prev page forward and back; a page button sent before a new student joined
    (and one past the last page after students were removed) still shows a valid page."""
    from tests.bot.test_choosers import Screen

    join = await new_course(bot, "Advanced Organic Chemistry and Molecular Spectroscopy")
    long_name = "Alexandrina-Maximiliana Featherstonehaugh-Wolfe de la Santísima Trinidad"
    for n in range(300):
        profile = UserProfile(80_000 + n, first_name=f"{n:03d} {long_name}")
        await bot.services.courses.join_by_code(profile, join)

    await bot.send(TEACHER_ID, "/report")
    screen = Screen.last(bot)
    pages = []
    while True:
        html = next(
            c.text
            for c in reversed(bot.request.calls)
            if c.method in ("sendMessage", "editMessageText")
        )
        assert len(html) <= 4096 and len(screen.text) <= 4096
        assert_valid_telegram_html(html)
        pages.append(screen.text)
        if "Next ▶" not in screen.buttons:
            break
        await screen.tap("Next ▶")
    assert len(pages) == 12 and "Page 12 of 12" in pages[-1]
    await screen.tap("◀ Prev")
    assert "Page 11 of 12" in screen.text
    stale_next = screen.buttons["Next ▶"]  # to page 12 of 12

    # A new student (sorting first) joins: the old button still works, on today's roster.
    await bot.services.courses.join_by_code(UserProfile(79_999, first_name="Aaron A"), join)
    await bot.press(TEACHER_ID, stale_next, message_id=screen.message_id)
    assert "Page 12 of 13" in screen.text, screen.text[-200:]
    assert "301 students" in screen.text

    # Students removed until one page is left: a button for page 12 shows the last page.
    course = "Advanced Organic Chemistry and Molecular Spectroscopy"
    for n in range(290):
        [removed] = await bot.send(TEACHER_ID, f"/remove_student {course} {n:03d} Alexandrina")
        assert "is no longer in" in removed, removed
    await bot.press(TEACHER_ID, stale_next, message_id=screen.message_id)
    assert "11 students" in screen.text and "Page" not in screen.text, screen.text[-300:]
    assert "Aaron A" in screen.text


async def test_a_group_card_speaks_the_installations_language(
    bot: BotHarness, clock: ManualClock
) -> None:
    """A Russian-speaking teacher starts a session in a group: the group's card (live, ended
    and final) is in ATTN_DEFAULT_LANGUAGE (here Spanish), the teacher's private code card
    in Russian, and a student's private check-in reply in the student's own language."""
    from bot.cards import refresh_cards
    from bot.notifier import TelegramNotifier
    from bot.text import Text, default_language, set_default_language, t

    group = -100_777
    before = default_language()
    set_default_language("es")
    try:
        await bot.send(TEACHER_ID, "/start", language_code="ru")
        await bot.send(
            TEACHER_ID,
            "/start_session 20 Seminar",
            chat_id=group,
            chat_type="group",
            language_code="ru",
        )
        session = await bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        in_group = [c for c in bot.request.calls if c.params.get("chat_id") == group and c.text]
        assert in_group, bot.request.calls
        card = in_group[0]
        buttons = [b["text"] for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
        assert t("card.button.check_in", language="es", html=False) in buttons, buttons
        assert not any("\u0400" <= ch <= "\u04ff" for ch in card.text), card.text
        private = [c for c in bot.request.calls if c.method == "sendPhoto"][-1]
        assert any("\u0400" <= ch <= "\u04ff" for ch in private.text), private.text

        [reply] = await bot.send(40_003, f"/checkin {session.code}", language_code="en")
        assert reply.startswith("✅ Checked in"), reply

        clock.advance(seconds=10)
        await refresh_cards(bot.app.context_types.context(bot.app))
        await bot.send(TEACHER_ID, "/end_session", language_code="ru")
        clock.advance(minutes=1)
        await bot.services.sweeper.sweep_attendances()
        await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
        edits = [
            c.text
            for c in bot.request.calls
            if c.params.get("chat_id") == group and c.method == "editMessageText"
        ]
        assert edits and "Seminar" in edits[-1], edits
        for text in edits:
            assert not any("\u0400" <= ch <= "\u04ff" for ch in text), text
        final = t("card.ended_sent", language="es", heading=Text("<b>Seminar</b>"), checked="1")
        assert edits[-1] == final, edits[-1]
    finally:
        set_default_language(before)
