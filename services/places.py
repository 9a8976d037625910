"""Roster places: the official roster imported from a file, each row a seat a student claims.

An unclaimed place stands in the course's roster under a negative "stand-in" id (with a
`users` row carrying the imported name and number), so sessions record it absent, and
summaries, reports and exports count it like any student. Claiming moves those records to the
student's own id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: What a student number may look like: ASCII letters, digits and . / -, with a digit.
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,31}", re.ASCII)
MAX_NAME_LENGTH = 128
MAX_GROUP_LENGTH = 64
MAX_EMAIL_LENGTH = 254


def clean_student_number(text: str) -> str | None:
    """The number as stored (upper case, so `s123` and `S123` are one), or None when it
    cannot be a student number."""
    word = text.strip()
    if not _NUMBER.fullmatch(word) or not any(ch.isdigit() for ch in word):
        return None
    return word.upper()


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """One valid line of an imported roster file."""

    line: int
    student_number: str
    full_name: str
    email: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A seat on a course's imported roster; `stand_in` is set while nobody claimed it."""

    id: int
    course_id: int
    student_number: str
    full_name: str
    email: str | None
    group: str | None
    stand_in: int | None
    claimed_by: int | None


class ClaimResult(StrEnum):
    """What a claim by student number found."""

    CLAIMED = "claimed"
    TAKEN = "taken"  # the number's place is already someone's
    NO_PLACE = "no_place"  # no place has that number


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """A claim waiting for the teacher's approval (a number that matched no free place)."""

    id: int
    course_id: int
    student_id: int
    student_number: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What the store did with the valid rows: new places, numbers already there, and how
    many students enrolled before the import got the place of the number they registered."""

    added: int
    already_there: list[str] = field(default_factory=list)
    linked: int = 0
