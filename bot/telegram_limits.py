"""Telegram's size limits, and the one place that fits long content into them.

Telegram refuses a message whose text is longer than 4,096 characters *after entity
parsing* (the HTML tags do not count, ``&amp;`` counts as one character, and a character
outside the Basic Multilingual Plane, like most emoji, counts as two: lengths are UTF-16
code units), a caption longer than 1,024, callback data outside 1..64 bytes and an inline
keyboard of more than 100 buttons. A refused summary is a summary the teacher never gets,
so every text whose length depends on data is built here: lists are shortened with
"… and N more" (the full list goes in a file, or the reader is pointed to the command that
has it), and whatever is left over is cut between characters, never inside a tag or an
entity, with every open tag closed again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
#: A button's answer (answerCallbackQuery `text`): plain text, no parse mode.
MAX_ALERT_LENGTH = 200

#: What ends a text that had to be cut anyway (one character).
CUT_MARK = "…"

_TAG = r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>"
_TOKEN = re.compile(_TAG + r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-z]+);")
# The tags alone: without an "&" in the text `_TOKEN` finds exactly these, an order of
# magnitude faster (the entity alternative defeats the regex engine's scan for "<").
_TAG_ONLY = re.compile(_TAG)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _entity_text(entity: str) -> str:
    body = entity[1:-1]
    if body.startswith(("#x", "#X")):
        return chr(int(body[2:], 16))
    if body.startswith("#"):
        return chr(int(body[1:]))
    return _NAMED.get(body, entity)


def _visible(match: re.Match[str]) -> str:
    """What a tag (nothing) or an entity (its character) shows once Telegram parsed it."""
    token = match.group(0)
    return _entity_text(token) if token.startswith("&") else ""


def visible_length(html: str) -> int:
    """Length of `html` once Telegram has parsed it: tags removed, entities decoded.

    One substitution and one encoding for the whole text (it is measured again for every
    item a long list drops in `fit_blocks`), not one per piece between tags.
    """
    if "&" not in html:
        return utf16_length(_TAG_ONLY.sub("", html))
    return utf16_length(_TOKEN.sub(_visible, html))


def fit_html(html: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """`html` unchanged if Telegram accepts its length, else cut to fit with `CUT_MARK`.

    The cut falls between characters of the visible text: a tag or an entity is kept whole
    or dropped, a surrogate pair is never split, and the tags open at the cut are closed.
    """
    if visible_length(html) <= limit:
        return html
    budget = limit - utf16_length(CUT_MARK)
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    pos = 0

    def take_text(text: str) -> bool:
        """Append as much of `text` as fits; False once the budget is spent."""
        nonlocal used
        for char in text:
            size = utf16_length(char)
            if used + size > budget:
                return False
            out.append(char)
            used += size
        return True

    for match in _TOKEN.finditer(html):
        if not take_text(html[pos : match.start()]):
            break
        token = match.group(0)
        pos = match.end()
        if token.startswith("&"):
            size = utf16_length(_entity_text(token))
            if used + size > budget:
                break
            out.append(token)
            used += size
        elif match.group(1):  # a closing tag
            if open_tags and open_tags[-1] == match.group(2).lower():
                open_tags.pop()
            out.append(token)
        else:
            open_tags.append(match.group(2).lower())
            out.append(token)
    else:
        take_text(html[pos:])
    text = "".join(out).rstrip(" ,\n")
    for name in reversed(open_tags):
        text += f"</{name}>"
    return text + CUT_MARK


def fit_caption(html: str) -> str:
    """A caption Telegram accepts (1,024 characters after entity parsing)."""
    return fit_html(html, MAX_CAPTION_LENGTH)


@dataclass(frozen=True)
class ShortList:
    """A list that may be shortened to fit: ``heading + separator.join(items)``, followed by
    ``more.format(n=...)`` (or ``more(n)``, a catalog message) when some items are left out.
    Items are HTML, already escaped."""

    heading: str
    items: Sequence[str]
    separator: str = ", "
    more: str | Callable[[int], str] = " … and {n} more"
    #: Never show more than this many items, however much room there is.
    cap: int | None = None
    #: Always follows the items (before `more`), e.g. the closing tag the heading opened.
    closing: str = ""

    def render(self, shown: int) -> str:
        omitted = len(self.items) - shown
        body = self.separator.join(self.items[:shown])
        if omitted <= 0:
            more = ""
        elif callable(self.more):
            more = self.more(omitted)
        else:
            more = self.more.format(n=omitted)
        return self.heading + body + self.closing + more

    def start(self) -> int:
        return len(self.items) if self.cap is None else min(self.cap, len(self.items))


Block = str | ShortList


def fit_blocks(blocks: Sequence[Block], limit: int = MAX_TEXT_LENGTH, joiner: str = "\n\n") -> str:
    """Join `blocks` into one text of at most `limit` characters after entity parsing.

    Lists are shortened first, the longest shown list one item at a time, so every list
    keeps a fair share and says how many it leaves out; plain blocks are kept whole. Only if
    the plain blocks alone are too long is the text cut (`fit_html`).
    """
    shown = [block.start() if isinstance(block, ShortList) else 0 for block in blocks]

    def rendered() -> list[str]:
        return [
            block.render(n) if isinstance(block, ShortList) else block
            for block, n in zip(blocks, shown, strict=True)
        ]

    parts = rendered()
    sizes = [visible_length(part) for part in parts]
    overhead = utf16_length(joiner) * max(0, len(parts) - 1)
    while sum(sizes) + overhead > limit:
        candidates = [
            i for i, block in enumerate(blocks) if isinstance(block, ShortList) and shown[i] > 0
        ]
        if not candidates:
            break
        longest = max(candidates, key=lambda i: sizes[i])
        shown[longest] -= 1
        block = blocks[longest]
        assert isinstance(block, ShortList)
        parts[longest] = block.render(shown[longest])
        sizes[longest] = visible_length(parts[longest])
    return fit_html(joiner.join(parts), limit)


def alert_text(html: str, limit: int = MAX_ALERT_LENGTH) -> str:
    """A reply written as HTML, made fit for a button's answer.

    answerCallbackQuery has no parse mode: Telegram shows its text as is, so a tag would be
    read as ``<b>`` and an entity as ``&amp;``. The tags are dropped, the entities decoded,
    and a text over `limit` characters is cut after the last whole word that fits (a single
    word longer than the whole alert is cut between characters), ending with `CUT_MARK`.
    """
    text = _TOKEN.sub(lambda m: _entity_text(m.group(0)) if m.group(0)[0] == "&" else "", html)
    if utf16_length(text) <= limit:
        return text
    budget = limit - utf16_length(CUT_MARK)
    kept, used = 0, 0
    for char in text:
        used += utf16_length(char)
        if used > budget:
            break
        kept += 1
    head = text[:kept]
    if not text[kept].isspace():  # the cut falls inside a word: drop that word's start
        last_space = max(head.rfind(" "), head.rfind("\n"))
        if last_space > 0:
            head = head[:last_space]
    return head.rstrip(" ,;:\n") + CUT_MARK


def checked_callback_data(data: str) -> str:
    """`data` if Telegram accepts it as callback data (1..64 bytes), else ValueError."""
    if not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"callback data must be 1..64 bytes: {data!r}")
    return data


def checked_keyboard(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """`markup` if Telegram accepts it (at most 100 buttons, valid callback data), else
    ValueError: a keyboard built from data must be capped by its builder."""
    buttons = [button for row in markup.inline_keyboard for button in row]
    if len(buttons) > MAX_INLINE_BUTTONS:
        raise ValueError(f"an inline keyboard has at most 100 buttons, not {len(buttons)}")
    for button in buttons:
        if button.callback_data is not None:
            checked_callback_data(str(button.callback_data))
    return markup
