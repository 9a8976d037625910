"""Check-in codes: short, typed by hand in a lecture hall, so no look-alike characters."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from services.errors import InvalidArgument

# No 0/O, 1/I/L: a code read off a projector must not be ambiguous.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SESSION_CODE_LENGTH = 6

CodeGenerator = Callable[[int], str]

# What `normalize_code` drops, and what it keeps (on every check-in: no generator loops).
_SEPARATORS = str.maketrans("", "", " -_")
_CODE_CHARACTERS = frozenset(CODE_ALPHABET)


def random_code(length: int = SESSION_CODE_LENGTH) -> str:
    """Draw a code with `secrets`, so it cannot be predicted from earlier ones."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(text: str, length: int = SESSION_CODE_LENGTH) -> str:
    """Turn what a student typed into a canonical code, or raise `InvalidArgument`.

    Case and surrounding spaces/dashes do not matter; look-alikes are mapped to the letter or
    digit the alphabet keeps (O→0 is not in the alphabet, so it stays wrong: better a clear
    "wrong code" than a silent guess).
    """
    cleaned = text.strip().upper().translate(_SEPARATORS)
    if len(cleaned) != length or not _CODE_CHARACTERS.issuperset(cleaned):
        raise InvalidArgument("code", "format")
    return cleaned
