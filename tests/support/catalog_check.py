"""Does this text, as the Bot API received it, come from the catalog?

The Bot API double sees every outgoing text: messages and captions, button labels, button
answers (alerts), command descriptions. A text passes when

- it is a `bot.text.Text` (the request data still holds the object the bot passed in), or
- it can be cut into catalog messages, one after the other, with only whitespace and HTML
  tags between them, where each message's placeholders match what values may be: a number
  for `{count}`, a time for `{at}`, one line of anything for a name.

Composed texts (a reply plus a tip, a card cut to fit a caption, a button's answer with the
tags dropped) lose the `Text` type on the way, hence the second rule. A sentence written
inline in a handler matches no message and fails the test that sent it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import cache
from string import Formatter
from typing import Any

from bot.telegram_limits import CUT_MARK
from bot.text import Text
from bot.text.en import MESSAGES
from bot.text.message import Plural

#: Placeholders that always hold a number (possibly padded or with decimals).
_NUMBER = r" *-?\d+(?:\.\d+)?"
#: Placeholders that hold a time or a date and time (or "—" when there is none).
_TIME = r"(?:\d{4}-\d\d-\d\d )?\d\d:\d\d|—"
_TYPED = {
    **dict.fromkeys(
        ("count", "low", "high", "days", "hours", "distance", "minutes", "threshold"), _NUMBER
    ),
    **dict.fromkeys(("roster", "page", "pages", "id"), _NUMBER),
    **dict.fromkeys(("at", "until", "started", "ended", "when"), _TIME),
}
#: Placeholders that hold lines of a list (a table's rows): anything up to the next tag.
_LINES = {"rows"}
#: Anything on one line: a name, a title, another catalog message put in.
_ANY = r"[^\n]*?"
#: What may stand between two catalog messages: layout, not words.
_BETWEEN = r"(?:\s|</?[a-z]+>)*"

_TAG = re.compile(r"</?[a-z]+[^>]*>")


def _forms() -> Iterator[str]:
    for message in MESSAGES.values():
        if isinstance(message, Plural):
            yield message.one
            yield message.other
        else:
            yield message


def _pattern(template: str) -> str | None:
    """The regex for one message, or None if it has no text of its own to recognise it by
    (a bare `{name}`: it only ever stands inside, or beside, other catalog text)."""
    out: list[str] = []
    anchored = False
    for literal, name, _spec, _conv in Formatter().parse(template):
        out.append(re.escape(literal))
        anchored = anchored or bool(literal.strip())
        if name is None:
            continue
        if name in _TYPED:
            out.append(f"(?:{_TYPED[name]})")
            anchored = True
        elif name in _LINES:
            out.append(r"[^<]*?")
        else:
            out.append(_ANY)
    return "".join(out) if anchored else None


def _plain(template: str) -> str:
    """The message as a button's answer shows it: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", template))


@cache
def _matcher() -> re.Pattern[str]:
    patterns = {p for form in _forms() for f in (form, _plain(form)) if (p := _pattern(f))}
    # Longest first: a message wins over a shorter one it starts with.
    alternatives = "|".join(sorted(patterns, key=len, reverse=True))
    one = f"(?:{alternatives})"
    return re.compile(rf"\A{_BETWEEN}{one}(?:{_BETWEEN}{one})*{_BETWEEN}\Z")


def _pending_registry() -> set[str]:
    """Command descriptions still in the old lists of `bot.replies` (the command registry
    moves them into the catalog as `command.<name>.about`); gone once the lists are."""
    from bot import replies

    lists = ("STUDENT_COMMANDS", "TEACHER_COMMANDS", "ADMIN_COMMANDS", "PRIVACY_COMMANDS")
    return {about for name in lists for _, about in getattr(replies, name, [])}


def from_catalog(text: str) -> bool:
    if isinstance(text, Text) or not text.strip():
        return True
    if _matcher().match(text):
        return True
    # Cut to fit (a caption, an alert): the last message is there only in part.
    if text.endswith(CUT_MARK):
        kept = text[: -len(CUT_MARK)]
        for end in range(len(kept), 0, -1):
            if kept[end - 1] in " \n" and _matcher().match(kept[:end].rstrip()):
                return True
    return False


#: Fields of a Bot API call that users read.
_FIELDS = {"text", "caption", "description"}


def user_texts(params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) of every user-visible string in a call's parameters."""

    def walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in _FIELDS and isinstance(inner, str):
                    yield f"{where}.{key}", inner
                else:
                    yield from walk(inner, f"{where}.{key}")
        elif isinstance(value, list | tuple):
            for i, inner in enumerate(value):
                if isinstance(inner, str) and "keyboard" in where:
                    yield f"{where}[{i}]", inner  # a reply keyboard's plain-string button
                else:
                    yield from walk(inner, f"{where}[{i}]")

    for key, value in params.items():
        if key.startswith("_"):
            continue
        if key in _FIELDS and isinstance(value, str):
            yield key, value
        else:
            yield from walk(value, key)


def violations(method: str, params: dict[str, Any]) -> list[str]:
    """What this call sends that is not catalog text, as readable lines."""
    pending = _pending_registry() if method == "setMyCommands" else set()
    return [
        f"{method} {where}: {text!r}"
        for where, text in user_texts(params)
        if text not in pending and not from_catalog(text)
    ]
