"""The check-in deep link a QR code carries: `https://t.me/<bot>?start=ci_<session>-<code>`.

Telegram allows 64 characters of `A-Za-z0-9_-` in a start parameter; ours uses 22. The link
names the session and the code of the current step, so a scan checks in exactly like
`/checkin CODE`, and a stale QR is refused like a stale code.
"""

from __future__ import annotations

import re

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
