"""Small pieces every area shows the same way: times, links, lists cut to fit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from bot.telegram_limits import Block, fit_blocks, fit_html
from bot.text import Raw, Text, t
from services.models import Course


def fmt_time(when: datetime, tz: tzinfo) -> str:
    """The one way a time of day is shown: 24-hour clock in the configured time zone."""
    return when.astimezone(tz).strftime("%H:%M")


def fmt_datetime(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


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
