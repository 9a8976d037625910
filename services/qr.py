"""The check-in deep link a QR code carries: `https://t.me/<bot>?start=ci_<session>-<code>`,
or, with the web server on, the Mini App's `https://t.me/<bot>?startapp=ci_<session>-<code>`
(`t.me/<bot>/<short name>?startapp=...` for a Mini App created with BotFather's /newapp).

Telegram allows 64 characters of `A-Za-z0-9_-` in a start parameter; ours uses 22. The link
names the session and the code of the current step, so a scan checks in exactly like
`/checkin CODE`, and a stale QR is refused like a stale code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.codes import CODE_ALPHABET

PREFIX = "ci_"
_PAYLOAD = re.compile(rf"ci_([0-9a-f]{{12}})-([{CODE_ALPHABET}]{{6}})")


def encode_checkin_payload(session_id: str, code: str) -> str:
    payload = f"{PREFIX}{session_id}-{code}"
    if _PAYLOAD.fullmatch(payload) is None:
        raise ValueError("not a session id and code ATTN produces")
    return payload


def decode_checkin_payload(payload: str) -> tuple[str, str] | None:
    """(session id, code) from a start parameter, or None when it is not one of ours."""
    match = _PAYLOAD.fullmatch(payload)
    return (match[1], match[2]) if match else None


def checkin_link(bot_username: str, session_id: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={encode_checkin_payload(session_id, code)}"


GROUP_PREFIX = "cg_"
_GROUP_PAYLOAD = re.compile(r"cg_([0-9a-f]{12})")


def group_checkin_link(bot_username: str, session_id: str) -> str:
    """The link on a group's card: it opens the private chat ready for the code, without
    carrying the code itself."""
    return f"https://t.me/{bot_username}?start={GROUP_PREFIX}{session_id}"


def decode_group_payload(payload: str) -> str | None:
    match = _GROUP_PAYLOAD.fullmatch(payload)
    return match[1] if match else None


def app_link(bot_username: str, parameter: str, short_name: str | None = None) -> str:
    """A link opening the bot's Mini App with `parameter` as its start parameter: the main
    Mini App (set with BotFather), or the one named `short_name`."""
    base = (
        f"https://t.me/{bot_username}/{short_name}"
        if short_name
        else f"https://t.me/{bot_username}"
    )
    return f"{base}?startapp={parameter}"


@dataclass(frozen=True)
class CheckInLinks:
    """Where a card's QR and its group "Check in" button lead: the private chat (`start`),
    or the Mini App (`startapp`) when the web server is on. The chat path stays whole
    either way: the code is on the card, and /checkin takes it."""

    bot_username: str
    mini_app: bool = False
    short_name: str | None = None

    def scan(self, session_id: str, code: str) -> str:
        """The QR's link: session and current code."""
        if not self.mini_app:
            return checkin_link(self.bot_username, session_id, code)
        payload = encode_checkin_payload(session_id, code)
        return app_link(self.bot_username, payload, self.short_name)

    def group(self, session_id: str) -> str:
        """The group card's button: the session only, never the code."""
        if not self.mini_app:
            return group_checkin_link(self.bot_username, session_id)
        return app_link(self.bot_username, f"{GROUP_PREFIX}{session_id}", self.short_name)
