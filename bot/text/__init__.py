"""The text catalog: every string a user can see, by key, with its plural forms.

Handlers and renderers never write user text inline: they ask the catalog for a key and pass
the values to put in it. `t()` escapes those values for Telegram's HTML, so a name or a title
can never break a message, and returns a `Text`, the only kind of string the reply plumbing is
meant to send (the bot tests refuse any other, see `tests/support`). Messages live in
`bot/text/<language>/*.py`, one module per area; the next issue turns them into gettext
catalogs, so keys, not English sentences, are what the code names.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from string import Formatter

from bot.text.en import MESSAGES as ENGLISH
from bot.text.message import Message, Plural


class Text(str):
    """A string that came out of the catalog (or was composed only of such strings)."""

    __slots__ = ()


class Raw(str):
    """A value already safe for HTML (another `Text`, a link we built): put in as it is."""

    __slots__ = ()


class MissingText(KeyError):
    """A key the catalog does not have: a programming error, caught by the catalog tests."""


def _message(key: str) -> Message:
    try:
        return ENGLISH[key]
    except KeyError:
        raise MissingText(key) from None


def _value(value: object, html: bool) -> str:
    if isinstance(value, Text | Raw) or not html:
        return str(value)
    return escape(str(value))


def t(key: str, /, *, count: int | None = None, html: bool = True, **values: object) -> Text:
    """The message `key` with `values` put in (escaped for HTML unless `html=False` or the
    value is a `Text`/`Raw`); `count` chooses the plural form and is available as `{count}`."""
    message = _message(key)
    if isinstance(message, Plural):
        if count is None:
            raise TypeError(f"{key} is a plural message: pass count=")
        template = message.form(count)
    else:
        template = message
    if count is not None:
        values["count"] = count
    rendered = {name: _value(value, html) for name, value in values.items()}
    return Text(template.format_map(rendered))


def join(parts: Iterable[Text], separator: str = "\n") -> Text:
    """Catalog texts put together; the separator is layout (a newline, a space), not words."""
    if separator.strip():
        raise ValueError("a separator with words in it belongs in the catalog")
    return Text(separator.join(parts))


def placeholders(key: str) -> set[str]:
    """The names a message expects, for the catalog's own tests (and the next languages)."""
    message = _message(key)
    forms = [message.one, message.other] if isinstance(message, Plural) else [message]
    return {name for form in forms for _, name, _, _ in Formatter().parse(form) if name}


def keys() -> frozenset[str]:
    return frozenset(ENGLISH)


__all__ = ["MissingText", "Plural", "Raw", "Text", "join", "keys", "placeholders", "t"]
