"""Every text a user reads, as functions of results and errors. All user text is escaped."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from services.errors import InvalidArgument, SessionAlreadyOpen
from services.models import (
    AttendanceStatus,
    CheckInOutcome,
    CheckInResult,
    Session,
    SessionSummary,
)

SUMMARY_NAME_LIMIT = 60


def fmt_time(when: datetime, tz: tzinfo) -> str:
    """The one way a time of day is shown: 24-hour clock in the configured time zone."""
    return when.astimezone(tz).strftime("%H:%M")


def fmt_datetime(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def welcome(first_name: str, is_teacher: bool) -> str:
    hello = f"Hi {escape(first_name)}! I take attendance for classes."
    if is_teacher:
        return (
            f"{hello}\n\n"
            "• /start_session [minutes] [title] opens a session and gives you a code to show.\n"
            "• Students send /checkin CODE to me.\n"
            "• /end_session closes it; you get a summary of who checked in.\n\n"
            "/help lists everything you can do."
        )
    return (
        f"{hello}\n\n"
        "When your teacher shows a code, send it to me like this: /checkin K7M2QX\n"
        "Use /register Your Full Name so your teacher sees your real name.\n\n"
        "/help lists everything you can do."
    )


STUDENT_COMMANDS: list[tuple[str, str]] = [
    ("checkin", "check in with the code your teacher shows"),
    ("register", "set the name your teacher sees"),
    ("help", "what I can do for you"),
    ("start", "how this works"),
]

TEACHER_COMMANDS: list[tuple[str, str]] = [
    ("start_session", "open a session: [minutes] [title]"),
    ("end_session", "end your open session now"),
]


def help_text(is_teacher: bool) -> str:
    commands = STUDENT_COMMANDS + (TEACHER_COMMANDS if is_teacher else [])
    lines = [f"/{name} — {escape(text)}" for name, text in commands]
    return "<b>Commands</b>\n" + "\n".join(lines)


def session_started(session: Session, tz: tzinfo) -> str:
    return (
        f"<b>{escape(session.title)}</b> is open until {fmt_time(session.ends_at, tz)}.\n\n"
        f"Code: <code>{escape(session.code)}</code>\n\n"
        f"Students send: <code>/checkin {escape(session.code)}</code>\n"
        "Send /end_session to close it early."
    )


def session_already_open(error: SessionAlreadyOpen, tz: tzinfo) -> str:
    session = error.session
    return (
        f"You already have an open session: <b>{escape(session.title)}</b> "
        f"(code <code>{escape(session.code)}</code>, until {fmt_time(session.ends_at, tz)}).\n"
        "Send /end_session first to start a new one."
    )


def session_ended(session: Session) -> str:
    return f"<b>{escape(session.title)}</b> is closed. Your summary arrives in a moment."


NO_OPEN_SESSION = "You have no open session. Start one with /start_session."
NOT_A_TEACHER = "Only teachers can do that. Students check in with /checkin CODE."
ASK_FOR_CODE = "Send me the code your teacher shows (6 letters and digits, like K7M2QX)."
BAD_CODE_FORMAT = (
    "That doesn't look like a check-in code. Codes have 6 letters and digits, like K7M2QX."
)
UNAVAILABLE = "Sorry, attendance is temporarily unavailable. Please try again in a minute."
UNEXPECTED_ERROR = "Sorry, something went wrong on my side. Please try again."
UNKNOWN_COMMAND = "I don't know that command. /help lists the ones you can use."
PLAIN_TEXT_HINT = "To check in, send /checkin followed by the code, like: /checkin K7M2QX"
REGISTER_USAGE = (
    "Send your full name like this: /register Ada Lovelace\n"
    "You can add your student number at the end: /register Ada Lovelace 123456"
)


def invalid_argument(error: InvalidArgument) -> str:
    messages = {
        ("minutes", "range"): "The length must be a whole number of minutes from 1 to 240.",
        ("title", "too_long"): "That title is too long: keep it under 80 characters.",
        ("code", "format"): BAD_CODE_FORMAT,
        ("full_name", "length"): "A name must be 2 to 100 characters long.",
        ("full_name", "characters"): "A name may only contain letters, spaces, . ' and -.",
        ("student_number", "format"): (
            "A student number may only contain letters, digits, . / and - (up to 32)."
        ),
    }
    return messages.get((error.field, error.problem), "That input isn't valid.")


def check_in_result(result: CheckInResult, tz: tzinfo) -> str:
    title = escape(result.session_title or "the session")
    outcome = result.outcome
    if outcome is CheckInOutcome.RECORDED and result.checked_in_at:
        late = " (late)" if result.status is AttendanceStatus.LATE else ""
        return f"✅ Checked in to <b>{title}</b> at {fmt_time(result.checked_in_at, tz)}{late}."
    if outcome is CheckInOutcome.DUPLICATE and result.checked_in_at:
        return (
            f"You are already checked in to <b>{title}</b> "
            f"(since {fmt_time(result.checked_in_at, tz)})."
        )
    if outcome is CheckInOutcome.CLOSED:
        return f"<b>{title}</b> is closed: check-in is no longer possible."
    if outcome is CheckInOutcome.EXPIRED_CODE:
        return "This code has expired. Use the code your teacher shows now."
    return "That code is not valid. Check it and try again."


def registered(full_name: str, student_number: str | None) -> str:
    number = f" (student number {escape(student_number)})" if student_number else ""
    return f"Thanks! Teachers will see you as <b>{escape(full_name)}</b>{number}."


def summary_text(summary: SessionSummary, tz: tzinfo) -> str:
    attended = summary.checked_in
    head = (
        f"<b>Summary: {escape(summary.title)}</b>\n"
        f"{fmt_datetime(summary.started_at, tz)}–{fmt_time(summary.ends_at, tz)}\n"
        f"Checked in: <b>{len(attended)}</b>"
    )
    if not attended:
        return head + "\n\nNobody checked in."
    lines = []
    for line in attended[:SUMMARY_NAME_LIMIT]:
        late = " (late)" if line.status is AttendanceStatus.LATE else ""
        when = fmt_time(line.checked_in_at, tz) if line.checked_in_at else "—"
        lines.append(f"{when} {escape(line.name)}{late}")
    more = len(attended) - SUMMARY_NAME_LIMIT
    tail = f"\n… and {more} more (all in the CSV file)." if more > 0 else ""
    return head + "\n\n" + "\n".join(lines) + tail
