"""Course time zones: what /course_settings accepts, and how a time is shown in a zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.replies.format import fmt_datetime_in, fmt_time_in, zone_of
from services.courses import parse_time_zone
from services.errors import InvalidArgument

WINTER = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        ("europe/madrid", "Europe/Madrid"),
        ("ASIA/TASHKENT", "Asia/Tashkent"),
        ("UTC", "UTC"),
        ("default", ""),
        ("Reset", ""),
        # Direction marks a right-to-left keyboard puts around the Latin name.
        ("\u200fAsia/Tehran", "Asia/Tehran"),
        ("Asia/Tehran\u200e", "Asia/Tehran"),
    ],
)
def test_parse_time_zone_accepts_iana_names_in_any_case(typed: str, zone: str) -> None:
    assert parse_time_zone(typed) == zone


@pytest.mark.parametrize(
    "typed", ["Mars/Olympus", "", "\u200f", "../etc/passwd", "Europe/", "CET+1"]
)
def test_parse_time_zone_refuses_what_the_database_does_not_know(typed: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_time_zone(typed)
    assert (raised.value.field, raised.value.problem) == ("time_zone", "unknown")


def test_times_show_the_course_zone_with_its_abbreviation_or_offset() -> None:
    assert fmt_time_in(WINTER, "Europe/Madrid", UTC) == "09:00 CET"
    assert fmt_time_in(SUMMER, "Europe/Madrid", UTC) == "10:00 CEST"
    assert fmt_time_in(WINTER, "Asia/Tashkent", UTC) == "13:00 +05"
    assert fmt_datetime_in(WINTER, "Asia/Tashkent", UTC) == "2026-01-15 13:00 +05"


def test_no_course_zone_keeps_the_installation_zone_as_before() -> None:
    madrid = zone_of("Europe/Madrid", UTC)
    assert fmt_time_in(WINTER, None, madrid) == "09:00"  # no suffix: unchanged output
    assert zone_of(None, madrid) is madrid
    assert zone_of("No/Such_Zone", madrid) is madrid  # a name the machine no longer knows
