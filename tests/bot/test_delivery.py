"""Blocks and unblocks (`my_chat_member`), Telegram's errors as delivery outcomes, and a
summary that arrives once: its parts retried separately, /summary under Telegram's flood
control or from a group, and /summary after a summary the teacher missed."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import replies
from bot.notifier import TelegramNotifier, delivery_failure
from services.clock import ManualClock
from services.delivery import DeliveryFailed
from tests.conftest import TEACHER_ID
from tests.support import telegram as telegram_updates
from tests.support.bot_harness import BOT_ID, BotHarness
from tests.support.stored_tables import Row, StoredTables
from tests.support.telegram import ApiCall

STUDENT = 52_001


def member_update(user_id: int, old: str, new: str, chat_type: str = "private") -> Update:
    """What Telegram sends when a user blocks (`kicked`) or unblocks (`member`) the bot."""
    return Update.de_json(
        telegram_updates.member_update(user_id, BOT_ID, old, new, chat_type), None
    )


async def unreachable(tables: StoredTables) -> set[int]:
    return {row["user_id"] for row in await tables.rows("unreachable_users")}


async def test_blocking_and_unblocking_the_bot_is_recorded(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked"))
    assert await unreachable(stored_tables) == {STUDENT}
    await bot.app.process_update(member_update(STUDENT, "kicked", "member"))
    assert await unreachable(stored_tables) == set()


async def test_a_group_removing_the_bot_is_not_a_blocked_user(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked", "supergroup"))
    assert await unreachable(stored_tables) == set()


async def test_a_user_who_writes_again_is_reachable_again(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await bot.app.process_update(member_update(STUDENT, "member", "kicked"))
    assert bot.services.delivery.awaits(STUDENT)
    [reply] = await bot.send(STUDENT, "/help")
    assert reply  # answered as usual
    assert await unreachable(stored_tables) == set()
    assert not bot.services.delivery.awaits(STUDENT)


@pytest.mark.parametrize(
    ("error", "permanent", "unreachable_", "retry_after"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), True, True, None),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"), True, True, None),
        (Forbidden("Forbidden: user is deactivated"), True, True, None),
        (BadRequest("Bad Request: chat not found"), True, True, None),
        (BadRequest("Bad Request: message is too long"), True, False, None),
        (RetryAfter(timedelta(seconds=42)), False, False, 42.0),
        (TimedOut(), False, False, None),
        (NetworkError("Connection reset by peer"), False, False, None),
    ],
)
def test_telegram_errors_become_delivery_outcomes(
    error: Exception, permanent: bool, unreachable_: bool, retry_after: float | None
) -> None:
    outcome = delivery_failure(error)  # type: ignore[arg-type]
    assert isinstance(outcome, DeliveryFailed)
    assert (outcome.permanent, outcome.unreachable, outcome.retry_after) == (
        permanent,
        unreachable_,
        retry_after,
    )
    assert type(error).__name__ in outcome.reason


GROUP = -100_555
SUMMARY_START = "<b>Summary"


def summaries_sent(calls: list[ApiCall]) -> list[ApiCall]:
    """The summary texts Telegram took (what the teacher reads)."""
    return [
        c
        for c in calls
        if c.method == "sendMessage" and c.status == 200 and c.text.startswith(SUMMARY_START)
    ]


def csvs_sent(calls: list[ApiCall]) -> list[ApiCall]:
    return [c for c in calls if c.method == "sendDocument" and c.status == 200]


async def outbox_row(tables: StoredTables, session_id: str) -> Row:
    [row] = [r for r in await tables.rows("summary_outbox") if r["session_id"] == session_id]
    return row


async def ended_session(bot: BotHarness, clock: ManualClock, title: str = "Quiz") -> str:
    """A session with one check-in, ended and persisted (its summary queued); its id."""
    [card] = await bot.send(TEACHER_ID, f"/start_session 30 {title}")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card)
    assert code, card
    await bot.send(52_081, f"/checkin {code[1]}")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    await bot.send(TEACHER_ID, "/end_session")
    clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()
    return session.id


async def test_summary_text_is_not_sent_again_when_only_its_csv_failed(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """Telegram takes the summary text, then the CSV upload fails three times (502, which
    python-telegram-bot does not retry): each retry of the row sends only the CSV. The
    teacher reads the summary once, gets the file once, and the card is made final once."""
    session_id = await ended_session(bot, clock)
    bot.request.api.fail_next(
        "sendDocument", error_code=502, description="Bad Gateway", times=3, chat_id=TEACHER_ID
    )
    since = len(bot.request.calls)
    notifier = TelegramNotifier(bot.app.bot, bot.services_tz)
    for _ in range(8):
        await bot.services.sweeper.deliver_summaries(notifier)
        clock.advance(minutes=5)
    calls = bot.request.calls[since:]
    assert len(summaries_sent(calls)) == 1
    assert len(csvs_sent(calls)) == 1
    uploads = [c for c in calls if c.method == "sendDocument"]
    assert [c.status for c in uploads] == [502, 502, 502, 200]
    finals = [c for c in calls if c.method in ("editMessageCaption", "editMessageText")]
    assert len(finals) == 1
    row = await outbox_row(stored_tables, session_id)
    assert row["sent_at"] is not None and row["failed_at"] is None
    assert sorted(row["parts_sent"]) == ["card", "csv", "text"]


async def test_summary_command_under_flood_wait_gets_a_short_answer(
    bot: BotHarness, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """/summary while Telegram answers 429 ("retry after 3"): the teacher is told Telegram
    asked to slow down and to send /summary again in a minute; no "something went wrong",
    no ERROR in the log. Asked again, the summary arrives."""
    await ended_session(bot, clock)
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    bot.request.api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        parameters={"retry_after": 3},
        chat_id=TEACHER_ID,
    )
    caplog.set_level(logging.INFO)
    since = len(bot.request.calls)
    answer = await bot.send(TEACHER_ID, "/summary")
    assert answer == ["Telegram asked me to slow down. Please send /summary again in a minute."]
    assert summaries_sent(bot.request.calls[since:]) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/summary")
    assert len(summaries_sent(bot.request.calls[since:])) == 1
    assert len(csvs_sent(bot.request.calls[since:])) == 1


async def test_summary_command_on_a_network_error_gets_a_short_answer(
    bot: BotHarness, clock: ManualClock
) -> None:
    await ended_session(bot, clock)
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    bot.request.api.fail_next("sendDocument", error_code=502, description="Bad Gateway")
    answer = await bot.send(TEACHER_ID, "/summary")
    assert answer[-1] == (
        "I could not send the summary just now. Please send /summary again in a minute."
    )
    assert replies.UNEXPECTED_ERROR not in answer


async def test_summary_from_a_group_by_a_teacher_who_blocked_the_bot_gets_the_pointer(
    bot: BotHarness, clock: ManualClock
) -> None:
    """/summary@bot in a group from a teacher who blocked the bot: the group gets the one
    neutral line pointing to the bot (never the summary), not "something went wrong"."""
    await ended_session(bot, clock)
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    bot.request.api.block_bot(TEACHER_ID, inject_update=False)
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, f"/summary@{bot.app.bot.username}", chat_id=GROUP, chat_type="group")
    into_group = [
        c for c in bot.request.calls[since:] if c.params.get("chat_id") == GROUP and c.status == 200
    ]
    assert [c.text for c in into_group] == [replies.open_bot_first(bot.app.bot.username, "p")]
    assert all(replies.UNEXPECTED_ERROR not in c.text for c in bot.request.calls[since:])


async def test_teacher_asking_summary_after_a_missed_one_gets_it_once(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """The teacher had blocked the bot (their summary ended "unreachable"), unblocks and
    sends /summary: the summary and its CSV arrive once; the "I could not send you this
    earlier" follow-up does not repeat them, now or at their next message."""
    session_id = await ended_session(bot, clock)
    bot.request.api.block_bot(TEACHER_ID, inject_update=False)
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    await bot.services.delivery.refresh()  # as deliver_summaries_task does after each run
    assert (await outbox_row(stored_tables, session_id))["failed_at"] is not None
    bot.request.api.block_bot(TEACHER_ID, blocked=False, inject_update=False)
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/summary")
    await bot.send(TEACHER_ID, "/help")
    calls = bot.request.calls[since:]
    assert len(summaries_sent(calls)) == 1
    assert len(csvs_sent(calls)) == 1
    assert all(replies.missed_summaries(1) != c.text for c in calls)
    assert (await outbox_row(stored_tables, session_id))["sent_at"] is not None


async def test_summary_command_before_the_courier_counts_as_the_delivery(
    bot: BotHarness, clock: ManualClock
) -> None:
    """A teacher who sends /summary before the queued summary went out gets it once: the
    courier does not send the queued copy afterwards."""
    await ended_session(bot, clock)
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/summary")
    for _ in range(3):
        await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
        clock.advance(minutes=5)
    calls = bot.request.calls[since:]
    assert len(summaries_sent(calls)) == 1
    assert len(csvs_sent(calls)) == 1


async def test_missed_summary_whose_text_arrived_is_completed_not_repeated(
    bot: BotHarness, clock: ManualClock, stored_tables: StoredTables
) -> None:
    """The text went through, then the teacher blocked the bot before the CSV: when they
    next write, only what is left (the CSV) follows the "could not send earlier" line."""
    session_id = await ended_session(bot, clock)
    bot.request.api.fail_next(
        "sendDocument",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=TEACHER_ID,
    )
    await bot.services.sweeper.deliver_summaries(TelegramNotifier(bot.app.bot, bot.services_tz))
    await bot.services.delivery.refresh()
    row = await outbox_row(stored_tables, session_id)
    assert row["failed_at"] is not None and sorted(row["parts_sent"]) == ["card", "text"]
    since = len(bot.request.calls)
    await bot.send(TEACHER_ID, "/help")
    calls = bot.request.calls[since:]
    assert replies.missed_summaries(1) in [c.text for c in calls if c.status == 200]
    assert summaries_sent(calls) == [] and len(csvs_sent(calls)) == 1
    assert (await outbox_row(stored_tables, session_id))["sent_at"] is not None


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (
            DeliveryFailed("RetryAfter: Flood control exceeded", retry_after=30.0),
            "Telegram asked me to slow down. Please try again in a minute.",
        ),
        (
            DeliveryFailed("RetryAfter: Flood control exceeded", retry_after=150.0),
            "Telegram asked me to slow down. Please try again in 3 minutes.",
        ),
        (
            DeliveryFailed("NetworkError: Bad Gateway"),
            "I could not send that just now. Please try again in a minute.",
        ),
        (  # a reply of any handler that met Telegram's flood control
            RetryAfter(timedelta(seconds=20)),
            "Telegram asked me to slow down. Please try again in a minute.",
        ),
        (TimedOut(), "I could not send that just now. Please try again in a minute."),
    ],
)
async def test_a_delivery_failure_reaching_the_error_handler_gets_a_short_answer(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    expected: str,
) -> None:
    """Whatever handler lets Telegram's refusal (`DeliveryFailed`, or a raw 429 or time-out)
    escape, the user reads a short answer saying what to do, and the log has a warning, not
    an ERROR traceback."""
    update_id = bot.request.api.send_message(TEACHER_ID, "/summary")
    update = Update.de_json(bot.request.api.get_update(update_id), bot.app.bot)
    caplog.set_level(logging.INFO)
    since = len(bot.request.calls)
    await bot.app.process_error(update, failure)
    sent = [c.text for c in bot.request.calls[since:] if c.status == 200]
    assert sent == [expected]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_confirmation_refused_with_403_is_not_an_error_and_gets_no_apology(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A student blocks the bot right after sending /checkin: the check-in is recorded, the
    confirmation meets 403, and the bot neither logs an unexpected error nor sends a doomed
    "something went wrong" after it."""
    student = 4711
    await bot.send(TEACHER_ID, "/start_session 10 Lab")
    session = await bot.services.sessions.open_session(TEACHER_ID)
    assert session is not None
    bot.request.api.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        times=5,
        chat_id=student,
    )
    with caplog.at_level(logging.WARNING):
        await bot.send(student, f"/checkin {session.code}")
    assert student in await bot.services.live.checkins.checked_in(session.id)
    attempts = [c for c in bot.request.api.calls_of("sendMessage") if c.chat_id == student]
    assert len(attempts) == 1  # the confirmation only: no apology after it
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "could not reach its chat" in caplog.text
