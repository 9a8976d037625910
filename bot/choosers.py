"""Inline choosers for /report, /course_settings, /summary and /mark, and the strict
parsing of their callback data (64 bytes at most).

Why one module: every chooser is a paged list of buttons with the same shape of data
("<kind>:<step>:<values>"), and the handlers of several features build them. The data comes
from the client and can be forged: each parser accepts only the exact shapes built here, and
the handlers check permissions again on the server (a course or a session is read back as
the presser's before anything is shown or changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.format import fmt_datetime, zone_of
from bot.telegram_limits import checked_keyboard
from bot.text import t
from services.corrections import SessionChoice
from services.models import AttendanceStatus, Course, CourseRole, StaffMember, UserProfile
from services.ports.api import ApiScope, ApiToken

#: Buttons per page of a chooser: short enough to read on a phone.
PER_PAGE = 10
#: One letter per status in a button's data.
STATUS_LETTERS = {"p": "present", "l": "late", "e": "excused", "a": "absent"}
_LETTER_OF = {word: letter for letter, word in STATUS_LETTERS.items()}

_ID = r"(\d{1,18})"
_PAGE = r"(\d{1,4})"
_SESSION = r"([0-9a-f]{12})"
_SHAPES: dict[str, re.Pattern[str]] = {
    # /report: a course picked, a page of the course list, a page of the report.
    "rp:c": re.compile(rf"rp:c:{_ID}", re.ASCII),
    "rp:l": re.compile(rf"rp:l:{_PAGE}", re.ASCII),
    "rp:p": re.compile(rf"rp:p:{_ID}:{_PAGE}", re.ASCII),
    # /course_settings: a course picked, a page of the course list.
    "cs:c": re.compile(rf"cs:c:{_ID}", re.ASCII),
    "cs:l": re.compile(rf"cs:l:{_PAGE}", re.ASCII),
    # /grading: a course picked, a page of the course list.
    "gr:c": re.compile(rf"gr:c:{_ID}", re.ASCII),
    "gr:l": re.compile(rf"gr:l:{_PAGE}", re.ASCII),
    # /summary: a session picked, a page of the session list.
    "sm:s": re.compile(rf"sm:s:{_SESSION}", re.ASCII),
    "sm:l": re.compile(rf"sm:l:{_PAGE}", re.ASCII),
    # /mark: a page of sessions; a session's page of students; a student; a status.
    "mk:l": re.compile(rf"mk:l:{_PAGE}", re.ASCII),
    "mk:s": re.compile(rf"mk:s:{_SESSION}:{_PAGE}", re.ASCII),
    "mk:u": re.compile(rf"mk:u:{_SESSION}:{_ID}", re.ASCII),
    "mk:x": re.compile(rf"mk:x:{_SESSION}:{_ID}:([plea])", re.ASCII),
    # /staff: a course picked, a page of the course list, an invitation (c: co-teacher,
    # a: assistant), a member removed.
    "sf:c": re.compile(rf"sf:c:{_ID}", re.ASCII),
    "sf:l": re.compile(rf"sf:l:{_PAGE}", re.ASCII),
    "sf:i": re.compile(rf"sf:i:{_ID}:([ca])", re.ASCII),
    "sf:r": re.compile(rf"sf:r:{_ID}:{_ID}", re.ASCII),
    # /api_tokens: a course picked, a page of the course list, a new token (r: read, w:
    # read and write), a token revoked.
    "ak:c": re.compile(rf"ak:c:{_ID}", re.ASCII),
    "ak:l": re.compile(rf"ak:l:{_PAGE}", re.ASCII),
    "ak:n": re.compile(rf"ak:n:{_ID}:([rw])", re.ASCII),
    "ak:x": re.compile(rf"ak:x:{_ID}:{_ID}", re.ASCII),
    # /webhook: send the test event, remove the webhook.
    "wh:t": re.compile(rf"wh:t:{_ID}", re.ASCII),
    "wh:x": re.compile(rf"wh:x:{_ID}", re.ASCII),
    # A sent roster file: a course picked, a page of the course list (with the file's token).
    "ri:c": re.compile(rf"ri:c:{_ID}:{_SESSION}", re.ASCII),
    "ri:l": re.compile(rf"ri:l:{_PAGE}:{_SESSION}", re.ASCII),
    # A claim waiting for the teacher: approve, decline.
    "rq:a": re.compile(rf"rq:a:{_ID}", re.ASCII),
    "rq:d": re.compile(rf"rq:d:{_ID}", re.ASCII),
}


def parse(data: str) -> tuple[str, list[str]] | None:
    """(kind, values) of a chooser button, e.g. ("mk:u", ["0a1b2c3d4e5f", "42"]), or None
    for anything not built here."""
    kind = data[:4]
    shape = _SHAPES.get(kind)
    match = shape.fullmatch(data) if shape else None
    return (kind, list(match.groups())) if match else None


def pages(count: int) -> int:
    """How many pages a chooser of `count` buttons has (at least one)."""
    return max(1, -(-count // PER_PAGE))


def _paged(
    items: Sequence[tuple[str, str]],
    page: int,
    page_data: Callable[[int], str],
    extra: Sequence[tuple[str, str]] = (),
) -> InlineKeyboardMarkup:
    """One button per (label, data) on this page, a Prev/Next row past one page, then the
    `extra` row (e.g. "back")."""
    count = pages(len(items))
    page = min(max(page, 0), count - 1)
    shown = items[page * PER_PAGE : (page + 1) * PER_PAGE]
    rows = [[InlineKeyboardButton(label, callback_data=data)] for label, data in shown]
    rows.extend(_paging_row(page, count, page_data))
    if extra:
        rows.append([InlineKeyboardButton(label, callback_data=data) for label, data in extra])
    return checked_keyboard(InlineKeyboardMarkup(rows))


def _paging_row(
    page: int, count: int, page_data: Callable[[int], str]
) -> list[list[InlineKeyboardButton]]:
    row = []
    if page > 0:
        label = t("report.button.previous", html=False)
        row.append(InlineKeyboardButton(label, callback_data=page_data(page - 1)))
    if page < count - 1:
        label = t("report.button.next", html=False)
        row.append(InlineKeyboardButton(label, callback_data=page_data(page + 1)))
    return [row] if row else []


def course_buttons(kind: str, courses: list[Course], page: int = 0) -> InlineKeyboardMarkup:
    """Pick a course for /report (`kind` "rp") or /course_settings ("cs")."""
    items = [
        (t("choose.course", name=course.name[:60], html=False), f"{kind}:c:{course.id}")
        for course in courses
    ]
    return _paged(items, page, lambda p: f"{kind}:l:{p}")


def roster_course_buttons(courses: list[Course], token: str, page: int = 0) -> InlineKeyboardMarkup:
    """Pick the course of a sent roster file (`token` names the kept file)."""
    items = [
        (t("choose.course", name=course.name[:60], html=False), f"ri:c:{course.id}:{token}")
        for course in courses
    ]
    return _paged(items, page, lambda p: f"ri:l:{p}:{token}")


def report_page_buttons(course_id: int, page: int, count: int) -> InlineKeyboardMarkup | None:
    """Prev/Next under a page of the report (None for a one-page report)."""
    rows = _paging_row(page, count, lambda p: f"rp:p:{course_id}:{p}")
    return checked_keyboard(InlineKeyboardMarkup(rows)) if rows else None


def session_label(choice: SessionChoice, tz: tzinfo) -> str:
    """A session's button: live or its start (in its course's zone), its course, its title."""
    when = (
        t("choose.live", html=False)
        if choice.live
        else fmt_datetime(choice.started_at, zone_of(choice.time_zone, tz))
    )
    return t(
        "choose.session",
        when=when,
        course=choice.course_name[:24],
        title=choice.title[:40],
        html=False,
    )


def session_buttons(
    kind: str, choices: list[SessionChoice], tz: tzinfo, page: int = 0
) -> InlineKeyboardMarkup:
    """Pick a session for /summary (`kind` "sm") or /mark ("mk")."""
    suffix = "" if kind == "sm" else ":0"  # /mark opens the first page of students
    items = [(session_label(c, tz), f"{kind}:s:{c.id}{suffix}") for c in choices]
    return _paged(items, page, lambda p: f"{kind}:l:{p}")


def student_buttons(
    session_id: str, students: list[UserProfile], page: int = 0
) -> InlineKeyboardMarkup:
    """Pick a student of the session for /mark; "back" to the sessions."""
    items = [
        (
            t("choose.student", name=p.display_name[:60], html=False),
            f"mk:u:{session_id}:{p.user_id}",
        )
        for p in students
    ]
    back = [(t("choose.back", html=False), "mk:l:0")]
    return _paged(items, page, lambda p: f"mk:s:{session_id}:{p}", back)


def status_buttons(session_id: str, student_id: int) -> InlineKeyboardMarkup:
    """The four statuses for the picked student; "back" to the students."""
    row = [
        InlineKeyboardButton(
            t(f"choose.status.{status.value}", html=False),
            callback_data=f"mk:x:{session_id}:{student_id}:{_LETTER_OF[status.value]}",
        )
        for status in AttendanceStatus
    ]
    back = InlineKeyboardButton(t("choose.back", html=False), callback_data=f"mk:s:{session_id}:0")
    return checked_keyboard(InlineKeyboardMarkup([row[:2], row[2:], [back]]))


def after_mark_buttons(session_id: str) -> InlineKeyboardMarkup:
    """After a correction: mark another student of the same session."""
    again = InlineKeyboardButton(
        t("choose.mark_another", html=False), callback_data=f"mk:s:{session_id}:0"
    )
    return checked_keyboard(InlineKeyboardMarkup([[again]]))


#: A role in a /staff invitation button's data.
ROLE_LETTERS = {"c": CourseRole.CO_TEACHER, "a": CourseRole.ASSISTANT}
#: Removal buttons under /staff (two invitation buttons besides; Telegram allows 100).
MAX_STAFF_BUTTONS = 60


def staff_buttons(course_id: int, members: list[StaffMember]) -> InlineKeyboardMarkup:
    """/staff: invite a co-teacher or an assistant; one "remove" per member."""
    invite = [
        InlineKeyboardButton(t(key, html=False), callback_data=f"sf:i:{course_id}:{letter}")
        for letter, key in (
            ("c", "staff.button.invite_co_teacher"),
            ("a", "staff.button.invite_assistant"),
        )
    ]
    rows = [invite]
    for member in members[:MAX_STAFF_BUTTONS]:
        label = t("staff.button.remove", name=member.profile.display_name[:60], html=False)
        data = f"sf:r:{course_id}:{member.profile.user_id}"
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return checked_keyboard(InlineKeyboardMarkup(rows))


#: The scope of an /api_tokens "new token" button's data.
SCOPE_LETTERS = {"r": ApiScope.READ, "w": ApiScope.READ_WRITE}


def api_token_buttons(course_id: int, tokens: list[ApiToken]) -> InlineKeyboardMarkup:
    """/api_tokens: a new read or read-and-write token; one "revoke" per token in force."""
    new = [
        InlineKeyboardButton(t(key, html=False), callback_data=f"ak:n:{course_id}:{letter}")
        for letter, key in (("r", "api.button.new_read"), ("w", "api.button.new_read_write"))
    ]
    rows = [new]
    for token in tokens:
        label = t("api.button.revoke", label=token.label, html=False)
        rows.append([InlineKeyboardButton(label, callback_data=f"ak:x:{course_id}:{token.id}")])
    return checked_keyboard(InlineKeyboardMarkup(rows))


def webhook_buttons(course_id: int) -> InlineKeyboardMarkup:
    """/webhook with a webhook set: send the test event, remove the webhook."""
    row = [
        InlineKeyboardButton(
            t("webhook.button.test", html=False), callback_data=f"wh:t:{course_id}"
        ),
        InlineKeyboardButton(
            t("webhook.button.remove", html=False), callback_data=f"wh:x:{course_id}"
        ),
    ]
    return checked_keyboard(InlineKeyboardMarkup([row]))
