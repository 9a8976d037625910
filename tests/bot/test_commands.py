"""Every command through the real Application, for normal and bad input."""

from __future__ import annotations

import pytest

from services.clock import ManualClock
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness, assert_valid_telegram_html

STUDENT = 5001
ODD = "ℌ𝔢𝔩𝔩𝔬 <b>&amp; \u202e\u200b 👩🏽‍🔬 Ω"


async def start_session(bot: BotHarness, args: str = "15 Math") -> str:
    [reply] = await bot.send(TEACHER_ID, f"/start_session {args}")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None and session.code in reply
    return session.code


async def test_start_differs_for_teachers_and_students(bot: BotHarness) -> None:
    [student] = await bot.send(STUDENT, "/start")
    [teacher] = await bot.send(TEACHER_ID, "/start")
    assert "/checkin" in student and "/start_session" not in student
    assert "/start_session" in teacher
    for text in (student, teacher):
        assert_valid_telegram_html(text)


async def test_help_lists_only_what_the_user_may_use(bot: BotHarness) -> None:
    [student] = await bot.send(STUDENT, "/help")
    [teacher] = await bot.send(TEACHER_ID, "/help")
    assert "/checkin" in student and "/end_session" not in student
    assert "/end_session" in teacher and "/start_session" in teacher


async def test_full_flow_through_the_bot(bot: BotHarness, clock: ManualClock) -> None:
    code = await start_session(bot)
    [ok] = await bot.send(STUDENT, f"/checkin {code.lower()}")
    assert "Checked in" in ok and "Math" in ok
    [dup] = await bot.send(STUDENT, f"/checkin {code}")
    assert "already checked in" in dup
    [ended] = await bot.send(TEACHER_ID, "/end_session")
    assert "closed" in ended
    [late] = await bot.send(STUDENT + 1, f"/checkin {code}")
    assert "closed" in late


async def test_checkin_alone_asks_and_takes_the_next_message(bot: BotHarness) -> None:
    code = await start_session(bot)
    [ask] = await bot.send(STUDENT, "/checkin")
    assert "Send me the code" in ask
    [ok] = await bot.send(STUDENT, f"  {code.lower()} ")
    assert "Checked in" in ok
    [hint] = await bot.send(STUDENT, code)  # no longer expected: a hint, not a check-in
    assert "/checkin" in hint


@pytest.mark.parametrize(
    "text",
    ["/checkin WRONG1", "/checkin " + "x" * 5000, f"/checkin {ODD}", "/checkin 123"],
)
async def test_bad_codes_get_a_clear_reply(bot: BotHarness, text: str) -> None:
    await start_session(bot)
    [reply] = await bot.send(STUDENT, text)
    assert "code" in reply
    assert_valid_telegram_html(reply)
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    assert await bot.services.live.checkins.checkin_count(session.id) == 0


async def test_expired_code(bot: BotHarness, clock: ManualClock) -> None:
    code = await start_session(bot, "5")
    clock.advance(minutes=6)
    [reply] = await bot.send(STUDENT, f"/checkin {code}")
    assert "closed" in reply


async def test_student_cannot_run_teacher_commands(bot: BotHarness) -> None:
    [start] = await bot.send(STUDENT, "/start_session 10 Sneaky")
    [end] = await bot.send(STUDENT, "/end_session")
    assert "Only teachers" in start and "Only teachers" in end
    assert await bot.services.sessions.open_session(STUDENT) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("0", "1 to 240"),
        ("999 Big", "1 to 240"),
        ("10 " + "t" * 5000, "too long"),
    ],
)
async def test_start_session_bad_arguments_change_nothing(
    bot: BotHarness, args: str, expected: str
) -> None:
    [reply] = await bot.send(TEACHER_ID, f"/start_session {args}")
    assert expected in reply
    assert await bot.services.sessions.open_session(TEACHER_ID) is None


async def test_odd_unicode_title_is_escaped(bot: BotHarness) -> None:
    [reply] = await bot.send(TEACHER_ID, f"/start_session 10 {ODD}")
    assert_valid_telegram_html(reply)
    assert "&lt;b&gt;&amp;amp;" in reply


async def test_second_session_refused(bot: BotHarness) -> None:
    code = await start_session(bot)
    [reply] = await bot.send(TEACHER_ID, "/start_session 10 Again")
    assert "already have an open session" in reply and code in reply


async def test_end_session_with_nothing_open(bot: BotHarness) -> None:
    [reply] = await bot.send(TEACHER_ID, "/end_session")
    assert "no open session" in reply


async def test_unknown_command_and_plain_text(bot: BotHarness) -> None:
    [unknown] = await bot.send(STUDENT, "/frobnicate now")
    assert "don't know that command" in unknown
    [plain] = await bot.send(STUDENT, "hello " * 900)
    assert "/checkin" in plain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/register", "Send your full name"),
        ("/register A", "2 to 100"),
        ("/register " + "x" * 5000, "2 to 100"),
        (f"/register {ODD}", "only contain letters"),
        ("/register Ada Lovelace", "Ada Lovelace"),
        ("/register Ada Lovelace 123-45", "student number 123-45"),
    ],
)
async def test_register(bot: BotHarness, text: str, expected: str) -> None:
    [reply] = await bot.send(STUDENT, text)
    assert expected in reply
    assert_valid_telegram_html(reply)


async def test_summary_is_sent_with_csv_after_the_sweep(
    bot: BotHarness, clock: ManualClock
) -> None:
    from bot.notifier import TelegramNotifier

    code = await start_session(bot)
    await bot.send(STUDENT, "/register Grace <Hopper>")  # refused: < is not a name character
    await bot.send(STUDENT, "/register Grace Hopper")
    await bot.send(STUDENT, f"/checkin {code}")
    await bot.send(TEACHER_ID, "/end_session")
    await bot.services.sweeper.sweep_attendances()
    await bot.services.sweeper.deliver_summaries(
        TelegramNotifier(bot.app.bot, bot.app.bot.defaults.tzinfo)
    )  # type: ignore[union-attr]
    texts = bot.request.texts(TEACHER_ID)
    assert "Summary: Math" in texts[-1] and "Grace Hopper" in texts[-1]
    assert "Checked in: <b>1</b>" in texts[-1]
    assert bot.request.sent(TEACHER_ID)[-1].method == "sendDocument"
