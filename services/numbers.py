"""Whole numbers typed by users: one strict parser, one place for every bound.

`str.isdigit()` is true for `²`, `٣` and other Unicode digits that `int()` refuses (or reads
as a value the user never meant), so user numbers are accepted as ASCII digits only, and a
number outside its range is refused with an error that names the range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.errors import InvalidArgument

_ASCII_NUMBER = re.compile(r"[0-9]{1,12}")

# The bounds of every number a user can type.
SESSION_MINUTES = (1, 240)
EXTEND_MINUTES = (1, 240)
MAX_SESSION_HOURS = 24
ROTATION_MAX_SECONDS = 3600
LATE_AFTER_MINUTES = (0, 240)
WARN_BELOW_PERCENT = (0, 100)


@dataclass
class NumberOutOfRange(InvalidArgument):
    """A typed number is malformed or outside `low`..`high` (both included)."""

    low: int = 0
    high: int = 0


def looks_like_number(text: str) -> bool:
    """True for words a user means as a number, in any script (`²`, `٣`, `፱`, `-5`, `+10`),
    even ones `parse_number` will refuse: they get the range reply, never become a title."""
    word = text.strip()
    digits = word[1:] if word[:1] in "+-" else word
    return digits != "" and all(ch.isdigit() for ch in digits)


def check_range(value: int, field: str, low: int, high: int) -> int:
    """`value` when low <= value <= high.

    Raises:
        NumberOutOfRange: outside the range.
    """
    if not low <= value <= high:
        raise NumberOutOfRange(field, "range", low, high)
    return value


def parse_number(text: str, field: str, low: int, high: int) -> int:
    """A whole number of ASCII digits within low..high.

    Raises:
        NumberOutOfRange: not ASCII digits, or outside the range.
    """
    word = text.strip()
    if _ASCII_NUMBER.fullmatch(word) is None:
        raise NumberOutOfRange(field, "range", low, high)
    return check_range(int(word), field, low, high)
