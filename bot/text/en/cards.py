"""The session card: what a group or a teacher's private chat shows while a session runs."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "card.heading": "<b>{title}</b>",
    "card.heading_course": "<b>{course} · {title}</b>",
    "card.count": "{count}",
    "card.count_roster": "{count} / {roster}",
    "card.ended": "{heading}\nEnded — {checked} checked in — summary on its way",
    "card.ended_sent": "{heading}\nEnded — {checked} checked in — summary sent",
    "card.location_button": "Share classroom location again",
    "card.location_missing_button": "⚠ Share classroom location",
    "card.location_on": "Location check: on (classroom location set)",
    "card.location_missing": (
        "Location check: on — <b>classroom location missing</b>: students can't check in "
        "until the teacher shares it (button below)."
    ),
    "card.timing": "Time left: {minutes} min (until {until})",
    "card.late_from": "Late from {at}",
    "card.group": (
        "{heading}\n\n<b>{checked}</b> checked in\n{timing}\n\n"
        "Students: tap Check in below, then send me the code shown in class."
    ),
    "card.private": (
        "{heading}\n\n"
        "Code: <b><code>{code}</code></b>\n"
        "<b>{checked}</b> checked in\n"
        "{timing}\n\n"
        "Students: scan the QR or send <code>/checkin {code}</code>"
    ),
    "card.button.end": "End now",
    "card.button.extend": "+5 min",
    "card.button.list": "Show list",
    "card.button.missing": "Who is missing",
    "card.button.check_in": "Check in (opens a private chat)",
    "card.button.projector": "📽 Projector",
    "card.button.new_projector": "New projector link",
    "card.projector_replaced": (
        "New projector link made: pages open with the old one stop at once. The card's "
        "Projector button opens the new one within a few seconds."
    ),
    "card.ended_alert": "Session ended. The summary follows.",
    "card.for_group": "This session was started in a group: the group's card has no code.",
}
