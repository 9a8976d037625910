"""Small pieces every area shows the same way: times, links, lists cut to fit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_skeleton, format_time

from bot.telegram_limits import Block, fit_blocks, fit_html
from bot.text import Raw, Text, current_language, t
from services.models import Course


@cache
def _locale(language: str) -> Locale:
    """Babel's locale of a language; English's for one Babel does not know."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def fmt_time(when: datetime, tz: tzinfo, language: str | None = None) -> str:
    """The one way a time of day is shown: 24-hour clock in the zone `tz`, formatted by
    Babel for the reader's language (`language`, else the update's)."""
    minute = when.replace(second=0, microsecond=0)
    return _time_of_day(minute, tz, language or current_language())


@lru_cache(maxsize=4096)
def _time_of_day(minute: datetime, tz: tzinfo, language: str) -> str:
    """Babel's "HH:mm", kept per minute, zone and language: a class checking in within the
    same minutes asks for the same few times hundreds of times."""
    return format_time(minute, "HH:mm", tzinfo=tz, locale=_locale(language))


def fmt_datetime(when: datetime, tz: tzinfo, language: str | None = None) -> str:
    """A date and time: `2026-09-01 09:05` in English (as files and the README show it);
    the locale's own date in other languages (`1 сент. 2026 г. 09:05`), by Babel."""
    locale = _locale(language or current_language())
    if locale.language == "en":
        return format_datetime(when, "yyyy-MM-dd HH:mm", tzinfo=tz, locale=locale)
    day = format_skeleton("yMMMd", when.astimezone(tz), tzinfo=tz, locale=locale)
    return f"{day} {format_time(when, 'HH:mm', tzinfo=tz, locale=locale)}"


def zone_of(name: str | None, fallback: tzinfo) -> tzinfo:
    """A course's zone by its IANA name; the installation's (`fallback`) when it has none, or
    when this machine's zone database no longer knows the stored name."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def zone_abbreviation(when: datetime, tz: tzinfo) -> str:
    """The zone's short name at that moment: `CET`/`CEST`, or the offset (`+05`) where the
    database has no letters for it (as for Asia/Tashkent)."""
    return when.astimezone(tz).tzname() or "UTC"


def fmt_time_in(when: datetime, zone: str | None, fallback: tzinfo) -> str:
    """A time of day in a course's own zone, with the zone's abbreviation (`10:15 CET`), so a
    student abroad is not left guessing; a course without its own zone shows it as before."""
    if not zone:
        return fmt_time(when, fallback)
    tz = zone_of(zone, fallback)
    return f"{fmt_time(when, tz)} {zone_abbreviation(when, tz)}"


def fmt_datetime_in(when: datetime, zone: str | None, fallback: tzinfo) -> str:
    """`fmt_time_in` with the date."""
    if not zone:
        return fmt_datetime(when, fallback)
    tz = zone_of(zone, fallback)
    return f"{fmt_datetime(when, tz)} {zone_abbreviation(when, tz)}"


def plural(count: int, key: str = "plural.students") -> Text:
    """`count` with its noun in the right plural form (a `Plural` catalog message)."""
    return t(key, count=count)


def invite_link(bot_username: str, course: Course) -> str:
    return f"https://t.me/{bot_username}?start=join_{course.invite_token}"


def more(key: str) -> Callable[[int], str]:
    """The "… and N more" of a shortened list, from the catalog (`count` is N)."""
    return lambda n: t(key, count=n)


def fit(blocks: Sequence[Block], joiner: str = "\n\n") -> Text:
    """Catalog blocks and lists of catalog items, fitted into one message."""
    return Text(fit_blocks(blocks, joiner=joiner))


def fit_text(html: str) -> Text:
    return Text(fit_html(html))


def raw(text: str) -> Raw:
    """A piece already built from the catalog (HTML), put into another message as it is."""
    return Raw(text)
