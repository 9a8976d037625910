"""Does this text, as the Bot API received it, come from the catalog?

The Bot API double sees every outgoing text: messages and captions, button labels, button
answers (alerts), command descriptions. A text passes when

- it is a `bot.text.Text` (the request data still holds the object the bot passed in), or
- it can be cut into catalog messages (of any language loaded), one after the other, with
  only whitespace and HTML tags between them, where each message's placeholders match what
  values may be: a number for `{count}`, a time for `{at}`, one line of anything for a name.

Composed texts (a reply plus a tip, a card cut to fit a caption, a button's answer with the
tags dropped) lose the `Text` type on the way, hence the second rule. A sentence written
inline in a handler matches no message and fails the test that sent it.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from string import Formatter
from typing import Any

from bot.telegram_limits import CUT_MARK
from bot.text import Text, catalogs
from bot.text.en import MESSAGES
from bot.text.message import Message, Plural

#: Placeholders that always hold a number (possibly padded or with decimals).
_NUMBER = r" *-?\d+(?:\.\d+)?"
#: Placeholders that hold a time or a date and time (or "—" when there is none); a date is
#: ISO in English, the locale's own (`1 сент. 2026 г.`, `1 sept 2026`) in other languages.
_DATE = r"\d{4}-\d\d-\d\d|\d{1,2}\s[^\d\s<]{2,15}\s\d{4}(?:\sг\.)?"
_TIME = rf"(?:(?:{_DATE}) )?\d\d:\d\d|—"
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

_TAG = re.compile(r"</?[a-z]+[^>]*>")


def _forms(messages: frozenset[tuple[str, Message | tuple[str, ...]]]) -> Iterator[str]:
    for _key, message in messages:
        if isinstance(message, Plural):
            yield message.one
            yield message.other
        elif isinstance(message, tuple):
            yield from message  # a translation's plural forms
        else:
            yield message


@dataclass(frozen=True)
class _Form:
    """One catalog message form, ready to be recognised at a position of a text."""

    regex: re.Pattern[str]
    #: Its text before the first placeholder: a cheap test before the regex.
    prefix: str
    #: How many line breaks it spans (its placeholders never hold one, except `{rows}`).
    newlines: int
    multiline: bool


def _form(template: str) -> _Form | None:
    """The recogniser of one message, or None if it has no text of its own to recognise it
    by (a bare `{name}`: it only ever stands inside, or beside, other catalog text)."""
    out: list[str] = []
    anchored = multiline = False
    prefix: str | None = None
    for literal, name, _spec, _conv in Formatter().parse(template):
        out.append(re.escape(literal))
        anchored = anchored or bool(literal.strip())
        if prefix is None and name is not None:
            prefix = literal
        if name is None:
            continue
        if name in _TYPED:
            out.append(f"(?:{_TYPED[name]})")
            anchored = True
        elif name in _LINES:
            out.append(r"[^<]*?")
            multiline = True
        else:
            out.append(_ANY)
    if not anchored:
        return None
    return _Form(
        re.compile("".join(out)),
        template if prefix is None else prefix,
        template.count("\n"),
        multiline,
    )


def _plain(template: str) -> str:
    """The message as a button's answer shows it: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", template))


def _recognisers() -> tuple[_Form, ...]:
    # Built again when the catalog changes (a test may add a message for a command of its
    # own, or load a translation of its own): English and every language loaded. Asked for
    # every text sent, so the catalogs' sizes and identities say first whether it changed.
    loaded = catalogs()
    signature = (len(MESSAGES), *((k, id(c), len(c.messages)) for k, c in loaded.items()))
    if _LAST[0] == signature:
        return _LAST[1]
    _LAST[:] = [signature, _gather(loaded)]
    return _LAST[1]


_LAST: list[Any] = [None, ()]


def _gather(loaded: dict[str, Any]) -> tuple[_Form, ...]:
    every: set[tuple[str, Message | tuple[str, ...]]] = set(MESSAGES.items())
    for language, catalog in loaded.items():
        every.update((f"{language}:{key}", message) for key, message in catalog.messages.items())
    return _built(frozenset(every))


@cache
def _built(messages: frozenset[tuple[str, Message | tuple[str, ...]]]) -> tuple[_Form, ...]:
    templates = {f for form in _forms(messages) for f in (form, _plain(form))}
    return tuple(form for template in sorted(templates) if (form := _form(template)))


_SEPARATOR = re.compile(r"\s|</?[a-z]+>")


def _segments(text: str) -> bool:
    """Can `text` be cut into catalog messages with only layout between them?

    A search over positions, not one big regex: each message is tried only where its own
    text starts, and only up to a word boundary on the lines it can span, so a text that
    does not match fails in time proportional to its length.
    """
    # Ends of segments: where layout (or the text's end) follows.
    ends = [i for i, char in enumerate(text) if char.isspace() or char == "<"] + [len(text)]
    line_ends = [i for i, char in enumerate(text) if char == "\n"] + [len(text)]
    recognisers = _recognisers()
    seen: set[int] = set()
    todo = [0]
    while todo:
        pos = todo.pop()
        if pos in seen:
            continue
        seen.add(pos)
        if pos == len(text):
            return True
        separator = _SEPARATOR.match(text, pos)
        if separator:
            todo.append(separator.end())
        line = bisect.bisect_left(line_ends, pos)
        for form in recognisers:
            if not text.startswith(form.prefix, pos):
                continue
            if form.multiline:
                last = len(text)
            else:
                last = line_ends[min(line + form.newlines, len(line_ends) - 1)]
            first = bisect.bisect_left(ends, pos + max(1, len(form.prefix)))
            for end in ends[first : bisect.bisect_right(ends, last)]:
                if end not in seen and form.regex.fullmatch(text, pos, end):
                    todo.append(end)
    return False


def from_catalog(text: str) -> bool:
    if isinstance(text, Text) or not text.strip():
        return True
    # The same texts (command menus in every language, at every bot start) come back in
    # every test: a verdict is kept per catalog, so a changed catalog decides afresh.
    verdicts = _VERDICTS.setdefault(id(_recognisers()), {})
    if text not in verdicts:
        verdicts[text] = _decide(text)
    return verdicts[text]


#: Verdicts by catalog (the id of its recognisers, which `_built` keeps alive), then by text.
_VERDICTS: dict[int, dict[str, bool]] = {}


def _decide(text: str) -> bool:
    if _segments(text):
        return True
    # Cut to fit (a caption, an alert): the last message is there only in part.
    if text.endswith(CUT_MARK):
        kept = text[: -len(CUT_MARK)]
        return any(
            kept[end - 1] in " \n" and _segments(kept[:end].rstrip())
            for end in range(len(kept), 0, -1)
        )
    return False


#: Fields of a Bot API call that users read.
_FIELDS = {"text", "caption", "description", "short_description"}


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
    return [
        f"{method} {where}: {text!r}"
        for where, text in user_texts(params)
        if not from_catalog(text)
    ]
