"""What a teacher types with /start_session: lengths, titles, rotation, and the options kept
while the course is picked from buttons. Pure parsing, no store."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from services.errors import InvalidArgument
from services.numbers import EXTEND_MINUTES, SESSION_MINUTES, parse_number

MIN_MINUTES, MAX_MINUTES = SESSION_MINUTES
MAX_TITLE_LENGTH = 80


#: Zero-width non-joiner and joiner: invisible, yet part of how a word is written (Persian
#: "برنامه‌نویسی") or of one emoji (👩‍👩‍👧); kept between two visible characters.
JOINERS = "\u200c\u200d"


def joined(text: str, index: int) -> bool:
    """Whether the joiner at `index` sits between two visible characters."""
    visible = [
        0 <= i < len(text) and unicodedata.category(text[i])[0] not in "CZ"
        for i in (index - 1, index + 1)
    ]
    return all(visible)


def clean_title(text: str) -> str:
    """A title safe to show anywhere: printable characters only, spaces collapsed, capped.

    Invisible marks (RLM, LRM, zero-width space...) are dropped rather than turned into
    spaces, so a word typed with one stays one word; joiners inside a word are kept."""
    kept = []
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch in JOINERS:
            kept.append(ch if joined(text, index) else "")
        elif category == "Cf":
            kept.append("")
        elif category[0] in "CZ" and ch != " ":
            kept.append(" ")
        else:
            kept.append(ch)
    title = " ".join("".join(kept).split())
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidArgument("title", "too_long")
    return title


def parse_minutes(text: str) -> int:
    """A session length typed by a teacher (ASCII digits), within sane bounds.

    Raises:
        NumberOutOfRange: not a number of 1-240 minutes.
    """
    return parse_number(text, "minutes", MIN_MINUTES, MAX_MINUTES)


def parse_extension(text: str) -> int:
    """Minutes to add to a session, typed by its teacher (ASCII digits, 1-240).

    Raises:
        NumberOutOfRange: not a number of 1-240 minutes.
    """
    return parse_number(text, "extend_minutes", *EXTEND_MINUTES)


# What `parse_rotation` gives for text that is no ASCII number: `start_session` refuses it
# with the allowed range (which depends on the settings, so only the service can name it).
NOT_A_ROTATION = -1


def parse_rotation(text: str) -> int:
    """The seconds of `rotate=N` when N is ASCII digits, else `NOT_A_ROTATION`; the bounds
    are checked by `SessionService.check_rotation`."""
    word = text.strip()
    return int(word) if word.isascii() and word.isdigit() and len(word) <= 9 else NOT_A_ROTATION


@dataclass(frozen=True)
class StartOptions:
    """What a teacher typed with /start_session besides the course: kept server-side while
    the course is picked from buttons (callback data holds only a course id and a token)."""

    minutes: int | None = None
    title: str = ""
    rotation_seconds: int | None = None
    geo: bool = False
    chat_id: int | None = None  # where /start_session was sent: the card goes there

    def to_json(self) -> str:
        return json.dumps(
            {
                "minutes": self.minutes,
                "title": self.title,
                "rotation": self.rotation_seconds,
                "geo": self.geo,
                "chat": self.chat_id,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StartOptions:
        data = json.loads(text)
        return cls(
            minutes=data.get("minutes"),
            title=str(data.get("title") or ""),
            rotation_seconds=data.get("rotation"),
            geo=bool(data.get("geo")),
            chat_id=data.get("chat"),
        )
