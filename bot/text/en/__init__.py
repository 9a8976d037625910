"""English, the source language: every key of the catalog, gathered from one module per area.

A key may be defined in one module only; importing this package fails otherwise.
"""

from __future__ import annotations

from bot.text.en import (
    admin,
    api,
    cards,
    checkins,
    commands,
    common,
    courses,
    dashboard,
    errors,
    excuses,
    files,
    grading,
    lifecycle,
    miniapp,
    privacy,
    projector,
    reports,
    roster,
    sessions,
    settings,
    staff,
    timetable,
)
from bot.text.message import Message

_AREAS = (
    common,
    commands,
    errors,
    sessions,
    checkins,
    miniapp,
    cards,
    courses,
    lifecycle,
    reports,
    privacy,
    admin,
    files,
    settings,
    excuses,
    grading,
    roster,
    staff,
    timetable,
    projector,
    api,
    dashboard,
)


def _gather() -> dict[str, Message]:
    merged: dict[str, Message] = {}
    for area in _AREAS:
        for key, message in area.MESSAGES.items():
            if key in merged:
                raise RuntimeError(f"catalog key {key!r} defined twice")
            merged[key] = message
    return merged


MESSAGES = _gather()
