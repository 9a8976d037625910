"""Every number a user types is bounded: ASCII digits only, a clear reply naming the range.

Property tests: each numeric argument at its bounds (min-1, min, max, max+1) and as Unicode
digits (`²`, `٣`, `５`...), which `str.isdigit()` accepts and `int()` refuses, gets a reply
that is never the "something went wrong" one; refused values change nothing.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot import replies
from services.numbers import MAX_SESSION_HOURS
from storage.redis import keys
from tests.conftest import TEACHER_ID
from tests.support.bot_harness import BotHarness

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Non-ASCII characters that are digits to `str.isdigit()` (Nd: ٣ ５ ߁; No: ² ③ ...).
unicode_digits = st.text(
    alphabet=st.characters(whitelist_categories=["Nd", "No"]).filter(
        lambda ch: ch.isdigit() and not ch.isascii()
    ),
    min_size=1,
    max_size=4,
)


def bounds(low: int, high: int) -> st.SearchStrategy[str]:
    """min-1, min, max, max+1 (min-1 may be negative: it must get the range reply too)."""
    return st.sampled_from([str(low - 1), str(low), str(high), str(high + 1)])


async def end_open_session(bot: BotHarness) -> None:
    if await bot.services.sessions.open_session(TEACHER_ID):
        await bot.services.sessions.end_session(TEACHER_ID)


def assert_range_reply(reply: str, low: int, high: int) -> None:
    assert replies.UNEXPECTED_ERROR not in reply
    assert f"from {low} to {high}" in reply, reply


@PROPERTY_SETTINGS
@given(number=st.one_of(bounds(1, 240), unicode_digits))
async def test_session_length_bounds(bot: BotHarness, clean_redis: Redis, number: str) -> None:
    [reply] = await bot.send(TEACHER_ID, f"/start_session {number} Limits")
    opened = await bot.services.sessions.open_session(TEACHER_ID)
    if number.isascii() and number.isdigit() and 1 <= int(number) <= 240:
        assert opened is not None and opened.ends_at - opened.started_at == timedelta(
            minutes=int(number)
        )
    else:
        assert_range_reply(reply, 1, 240)
        assert opened is None
    await end_open_session(bot)


@PROPERTY_SETTINGS
@given(number=st.one_of(bounds(1, 240), unicode_digits))
async def test_extend_bounds(bot: BotHarness, clean_redis: Redis, number: str) -> None:
    await bot.send(TEACHER_ID, "/start_session 10 Limits")
    before = await bot.services.sessions.open_session(TEACHER_ID)
    assert before is not None
    [reply] = await bot.send(TEACHER_ID, f"/extend {number}")
    after = await bot.services.sessions.open_session(TEACHER_ID)
    assert after is not None
    if number.isascii() and number.isdigit() and 1 <= int(number) <= 240:
        assert after.ends_at - before.ends_at == timedelta(minutes=int(number))
    else:
        assert_range_reply(reply, 1, 240)
        assert after.ends_at == before.ends_at
    await end_open_session(bot)


@PROPERTY_SETTINGS
@given(number=st.one_of(bounds(10, 3600), unicode_digits, st.sampled_from(["1", "2", "5"])))
async def test_rotation_bounds(bot: BotHarness, clean_redis: Redis, number: str) -> None:
    # The test settings refresh cards every 5 s with a 5 s grace: a code must live >= 10 s.
    assert bot.services.sessions.min_rotation_seconds == 10
    [reply] = await bot.send(TEACHER_ID, f"/start_session 10 Limits rotate={number}")
    opened = await bot.services.sessions.open_session(TEACHER_ID)
    if number.isascii() and number.isdigit() and 10 <= int(number) <= 3600:
        assert opened is not None and opened.rotation_seconds == int(number)
    else:
        assert_range_reply(reply, 10, 3600)
        assert "fixed" in reply
        assert opened is None
    await end_open_session(bot)


@PROPERTY_SETTINGS
@given(
    setting=st.sampled_from([("late", 0, 240), ("warn", 0, 100)]),
    number=st.one_of(st.sampled_from(["-1", "0", "100", "101", "240", "241"]), unicode_digits),
)
async def test_course_setting_bounds(
    bot: BotHarness,
    clean_redis: Redis,
    setting: tuple[str, int, int],
    number: str,
) -> None:
    word, low, high = setting
    if not await bot.services.courses.teacher_courses(TEACHER_ID):
        await bot.send(TEACHER_ID, "/new_course Limits")
    [before] = await bot.services.courses.teacher_courses(TEACHER_ID)
    [reply] = await bot.send(TEACHER_ID, f"/course_settings Limits {word} {number}")
    [after] = await bot.services.courses.teacher_courses(TEACHER_ID)
    if number.isascii() and number.isdigit() and low <= int(number) <= high:
        value = after.late_after_minutes if word == "late" else after.warn_below_percent
        assert value == int(number)
    else:
        assert_range_reply(reply, low, high)
        assert after == before


async def test_unicode_digits_elsewhere_get_clear_replies(bot: BotHarness) -> None:
    for text in ("/remove_teacher ²", "/start_session ٣ Title", "/extend ５"):
        replies_ = await bot.send(TEACHER_ID, text)
        assert replies_ and all(replies.UNEXPECTED_ERROR not in r for r in replies_), text
    await bot.press(TEACHER_ID, "ss:²:10:")
    answers = [
        c.params.get("text", "") for c in bot.request.calls if c.method == "answerCallbackQuery"
    ]
    assert replies.BAD_BUTTON in answers


async def test_extensions_stop_at_the_longest_session(bot: BotHarness) -> None:
    """Extending again and again: a session never lasts more than 24 h, which stays far below
    its Redis keys' safety TTL; the reply says how much is still allowed."""
    assert keys.MAX_SESSION_SECONDS + 24 * 3600 < keys.SESSION_SAFETY_TTL
    await bot.send(TEACHER_ID, "/start_session 100 Marathon")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    for _ in range(5):  # 100 + 5 * 240 = 1300 minutes
        [reply] = await bot.send(TEACHER_ID, "/extend 240")
        assert "at most" not in reply
    [refused] = await bot.send(TEACHER_ID, "/extend 240")
    assert "from 1 to 140 minutes" in refused and "24 hours" in refused
    current = await bot.services.sessions.open_session(TEACHER_ID)
    assert current is not None
    assert current.ends_at - session.started_at == timedelta(minutes=1300)
    [ok] = await bot.send(TEACHER_ID, "/extend 140")
    assert replies.UNEXPECTED_ERROR not in ok and "at most" not in ok
    full = await bot.services.sessions.open_session(TEACHER_ID)
    assert full is not None
    assert full.ends_at - session.started_at == timedelta(hours=MAX_SESSION_HOURS)
    [closed] = await bot.send(TEACHER_ID, "/extend 1")
    assert "cannot be extended" in closed and "24 hours" in closed
    # The card's "+5 min" button is held to the same cap, with a clear answer.
    await bot.press(TEACHER_ID, f"cd:ext:{session.id}")
    answers = [
        c.params.get("text", "") for c in bot.request.calls if c.method == "answerCallbackQuery"
    ]
    assert "cannot be extended" in answers[-1]
    full_again = await bot.services.sessions.open_session(TEACHER_ID)
    assert full_again is not None and full_again.ends_at == full.ends_at
