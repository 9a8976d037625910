"""The projector page: the session's code and QR full screen, in a lecture hall's browser."""

from __future__ import annotations

from bot.text.message import Message, Plural

MESSAGES: dict[str, Message] = {
    "projector.page_title": "Check in — {heading}",
    "projector.heading": "{course} · {title}",
    "projector.code_label": "Code",
    "projector.qr_label": "QR code: scan it to check in",
    "projector.scan": "Scan the QR code with your phone, or send the code to @{bot}",
    "projector.count": Plural(one="{count} checked in", other="{count} checked in"),
    "projector.count_roster": Plural(
        one="{count} of {roster} checked in", other="{count} of {roster} checked in"
    ),
    "projector.time_left": "Time left",
    "projector.ended": "Session ended",
    "projector.reconnecting": "Connection lost — reconnecting…",
    "projector.refused_title": "Link not valid",
    "projector.refused": (
        "This projector link does not work: it is wrong, it has expired, or the teacher "
        "replaced it. Open the new one with the Projector button on the session card."
    ),
}
