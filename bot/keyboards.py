"""Inline keyboards and the strict parsing of their callback data (64 bytes at most).

Callback data comes from the client and can be forged: every parser here accepts only the
exact shapes we produce, and the handlers still check permissions on the server.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_limits import MAX_CALLBACK_DATA_BYTES, checked_keyboard
from services.models import Course

MAX_CALLBACK_BYTES = MAX_CALLBACK_DATA_BYTES
_START_CHOICE = re.compile(r"ss:(\d{1,18}):(\d{1,3}):(.*)", re.DOTALL)


def start_choice_data(course_id: int, minutes: int | None, title: str) -> str:
    """Callback data for "start a session for this course"; the title only if it fits."""
    data = f"ss:{course_id}:{minutes or 0}:{title}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        data = f"ss:{course_id}:{minutes or 0}:"
    return data


def parse_start_choice(data: str) -> tuple[int, int | None, str] | None:
    match = _START_CHOICE.fullmatch(data)
    if match is None:
        return None
    minutes = int(match[2])
    return int(match[1]), minutes or None, match[3]


def course_choice(courses: list[Course], minutes: int | None, title: str) -> InlineKeyboardMarkup:
    """One button per course (the first 20: others are named on the command line), to pick
    the course of a new session."""
    return checked_keyboard(
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        course.name[:60], callback_data=start_choice_data(course.id, minutes, title)
                    )
                ]
                for course in courses[:20]
            ]
        )
    )
