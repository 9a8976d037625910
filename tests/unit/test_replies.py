"""Replies escape user text and stay valid Telegram HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import replies
from bot.commands import welcome
from bot.handlers import REGISTRY
from services.models import AttendanceLine, AttendanceStatus, SessionSummary
from tests.support.bot_harness import assert_valid_telegram_html


def test_summary_lists_names_escaped_and_caps_long_lists() -> None:
    start = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lines = [
        AttendanceLine(i, f"<Student {i}> & co", AttendanceStatus.PRESENT, start + timedelta(i))
        for i in range(200)
    ]
    summary = SessionSummary("s1", 1, 1, "Math <101>", start, start + timedelta(hours=1), lines)
    text = replies.summary_text(summary, UTC)
    assert_valid_telegram_html(text)
    assert "Checked in: <b>200</b>" in text
    assert "&lt;Student 0&gt; &amp; co" in text
    assert "and 140 more" in text


def test_empty_summary() -> None:
    start = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    text = replies.summary_text(SessionSummary("s", 1, 1, "T", start, start), UTC)
    assert "Nobody checked in" in text


def test_every_fixed_reply_is_valid_telegram_html() -> None:
    # Named texts are rendered when read (in the reader's language): read each one.
    names = [name for table in replies._NAMED for name in table]
    texts = [getattr(replies, name) for name in names]
    assert len(texts) > 10
    for text in texts:
        assert_valid_telegram_html(text)
    for is_teacher, is_admin in ((False, False), (True, False), (True, True)):
        assert_valid_telegram_html(REGISTRY.help_text(is_teacher=is_teacher, is_admin=is_admin))
        assert_valid_telegram_html(welcome(REGISTRY, "<Ada>", is_teacher=is_teacher))


def test_teacher_welcome_tells_how_students_send_the_code() -> None:
    """The teacher's welcome says what students send (`/checkin CODE`, as before the command
    registry), not the command's usage line, whose `[code]` reads as if the code were optional;
    the teacher's own commands keep their usage lines."""
    text = welcome(REGISTRY, "Ada", is_teacher=True)
    assert "Students send /checkin CODE to me." in text
    assert "/checkin [code]" not in text
    assert REGISTRY["start_session"].usage() in text
