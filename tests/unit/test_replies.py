"""Replies escape user text and stay valid Telegram HTML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot import replies
from bot.commands import welcome
from bot.handlers import REGISTRY
from bot.replies.excuses import card
from bot.telegram_limits import MAX_CAPTION_LENGTH, visible_length
from services.models import AttendanceLine, AttendanceStatus, Course, SessionSummary
from services.ports.excuses import ExcuseRequest, ExcuseState, ExcuseTarget
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


def test_an_excuse_card_fits_a_caption_however_long_its_parts() -> None:
    """The reason is cut (never the names) so the card stays within Telegram's 1,024
    caption characters after entity parsing, and every value stays escaped."""
    course = Course(id=1, teacher_id=2, name="C&" * 100, join_code="J", invite_token="I")
    target = ExcuseTarget("abcdef012345", 1, "<b>" * 50, datetime(2026, 9, 1, 9, tzinfo=UTC))
    request = ExcuseRequest(
        id=1,
        target=target,
        student_id=3,
        reason="&<>" * 166 + "xy",
        attachment=None,
        state=ExcuseState.APPROVED,
        created_at=target.started_at,
    )
    text = card(request, course, "Ann " * 40, UTC, decided_by="T" * 60)
    assert_valid_telegram_html(text)
    assert visible_length(text) <= MAX_CAPTION_LENGTH
    assert "…" in text and "&lt;b&gt;" in text and "Approved by" in text
    short = card(replace(request, reason="Flu"), course, "Ann", UTC)
    assert short.endswith("Reason: Flu") and "…" not in short
