"""Inline keyboards and the strict parsing of their callback data (64 bytes at most).

Callback data comes from the client and can be forged: every parser here accepts only the
exact shapes we produce, and the handlers still check permissions on the server.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_limits import MAX_CALLBACK_DATA_BYTES, checked_keyboard
from bot.text import t
from services.models import Course

MAX_CALLBACK_BYTES = MAX_CALLBACK_DATA_BYTES
_START_CHOICE = re.compile(r"ss:(\d{1,18}):(\d{1,3}):(.*)", re.DOTALL | re.ASCII)


def parse_start_choice(data: str) -> tuple[int, int | None, str] | None:
    """The older "ss:<course>:<minutes>:<title>" buttons, still on keyboards sent before
    the options moved to Redis (they carry no geo or rotation option)."""
    match = _START_CHOICE.fullmatch(data)
    if match is None:
        return None
    minutes = int(match[2])
    return int(match[1]), minutes or None, match[3]


_START_TOKEN = re.compile(r"ss:(\d{1,18}):([0-9a-f]{12})", re.ASCII)


def start_token_data(course_id: int, token: str) -> str:
    """Callback data for "start the session for this course": the course and the token of
    the options kept in Redis (never the options themselves: 64 bytes would not hold them)."""
    return f"ss:{course_id}:{token}"


def parse_start_token(data: str) -> tuple[int, str] | None:
    """(course id, token) from a course-choice button, or None."""
    match = _START_TOKEN.fullmatch(data)
    return (int(match[1]), match[2]) if match else None


# Courses per page of the course question: with the paging row, far below Telegram's 100
# buttons, and short enough to read on a phone.
COURSES_PER_PAGE = 20
_START_PAGE = re.compile(r"sp:(\d{1,4}):([0-9a-f]{12})", re.ASCII)


def start_page_data(page: int, token: str) -> str:
    """Callback data for "show this page of the course question" (the token is passed on
    untouched: the options stay in Redis until a course is picked)."""
    return f"sp:{page}:{token}"


def parse_start_page(data: str) -> tuple[int, str] | None:
    """(page, token) from a paging button of the course question, or None."""
    match = _START_PAGE.fullmatch(data)
    return (int(match[1]), match[2]) if match else None


def course_pages(count: int) -> int:
    """How many pages the course question has for `count` courses (at least one)."""
    return max(1, -(-count // COURSES_PER_PAGE))


def course_choice_buttons(courses: list[Course], token: str, page: int = 0) -> InlineKeyboardMarkup:
    """One button per course, to pick the course of a new session; past COURSES_PER_PAGE
    courses, a page of them with "previous"/"more" buttons, so every course can be reached
    (a page out of range, e.g. after a course was deleted, shows the nearest one)."""
    pages = course_pages(len(courses))
    page = min(max(page, 0), pages - 1)
    shown = courses[page * COURSES_PER_PAGE : (page + 1) * COURSES_PER_PAGE]
    rows = [
        [
            InlineKeyboardButton(
                t("session.button.course", name=course.name[:60], html=False),
                callback_data=start_token_data(course.id, token),
            )
        ]
        for course in shown
    ]
    if pages > 1:
        paging = []
        if page > 0:
            paging.append(
                InlineKeyboardButton(
                    t("session.button.previous", html=False),
                    callback_data=start_page_data(page - 1, token),
                )
            )
        if page < pages - 1:
            paging.append(
                InlineKeyboardButton(
                    t("session.button.more", page=page + 2, pages=pages, html=False),
                    callback_data=start_page_data(page + 1, token),
                )
            )
        rows.append(paging)
    return checked_keyboard(InlineKeyboardMarkup(rows))
