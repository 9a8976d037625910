"""The HTML parse mode: text and entities as Telegram computes them, and its "can't parse
entities" refusals."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any

from tests.fakes.botapi.model import ApiError, JSONDict, _bad, _Open, _utf16_len


class _Out:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.u16 += _utf16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _entity(kind: str, offset: int, end: int, **extra: Any) -> JSONDict | None:
    if end <= offset:
        return None
    ent: JSONDict = {"type": kind, "offset": offset, "length": end - offset}
    ent.update({k: v for k, v in extra.items() if v is not None})
    return ent


def _sorted_entities(entities: Iterable[JSONDict | None]) -> list[JSONDict]:
    real = [e for e in entities if e is not None]
    return sorted(real, key=lambda e: (e["offset"], -e["length"]))


def _parse_error(message: str) -> ApiError:
    return _bad(f"can't parse entities: {message}")


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_][A-Za-z0-9_-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_HTML_ATTR_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(value: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _HTML_NAMED[name]

    return _HTML_ENTITY_RE.sub(repl, value)


def _parse_html(src: str) -> tuple[str, list[JSONDict]]:
    out = _Out()
    stack: list[_Open] = []
    entities: list[JSONDict | None] = []
    i = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "<":
            match = _HTML_TAG_RE.match(src, i)
            byte = _byte_offset(src, i)
            if match is None:
                bad_name = re.match(r"</?([^\s<>/]*)", src[i:])
                name = bad_name.group(1) if bad_name else ""
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte}')
            closing = match.group(1) == "/"
            name = match.group(2).lower()
            if closing:
                if not stack:
                    raise _parse_error(f"Unexpected end tag at byte offset {byte}")
                top = stack[-1]
                if top.name != name:
                    raise _parse_error(
                        f'Unmatched end tag at byte offset {byte}, expected "</{top.name}>", '
                        f'found "</{name}>"'
                    )
                stack.pop()
                entities.append(_close_html(top, out.u16, stack))
            else:
                if name not in _HTML_TAGS:
                    raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte}')
                attrs: dict[str, str] = {}
                for attr in _HTML_ATTR_RE.finditer(match.group(3)):
                    value = attr.group(2) or ""
                    if value[:1] in {'"', "'"}:
                        value = value[1:-1]
                    attrs[attr.group(1).lower()] = _html_unescape(value)
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _parse_error(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {byte}'
                    )
                stack.append(_Open(_HTML_TAGS[name], out.u16, byte, dict(attrs), name))
            i = match.end()
            continue
        if ch == "&":
            ent = _HTML_ENTITY_RE.match(src, i)
            if ent is not None:
                out.add(_html_unescape(ent.group(0)))
                i = ent.end()
                continue
            out.add("&")
            i += 1
            continue
        j = i
        while j < n and src[j] not in "<&":
            j += 1
        out.add(src[i:j])
        i = j
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), _sorted_entities(entities)


def _close_html(opened: _Open, end: int, stack: list[_Open]) -> JSONDict | None:
    attrs = opened.extra
    if opened.kind == "text_link":
        href = attrs.get("href")
        return _entity("text_link", opened.offset, end, url=href) if href else None
    if opened.kind == "code":
        parent = stack[-1] if stack else None
        if parent is not None and parent.kind == "pre":
            css = attrs.get("class", "")
            if css.startswith("language-"):
                parent.extra["language"] = css[len("language-") :]
            return None
        return _entity("code", opened.offset, end)
    if opened.kind == "pre":
        return _entity("pre", opened.offset, end, language=attrs.get("language"))
    if opened.kind == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return _entity(kind, opened.offset, end)
    if opened.kind == "custom_emoji":
        return _entity("custom_emoji", opened.offset, end, custom_emoji_id=attrs.get("emoji-id"))
    return _entity(opened.kind, opened.offset, end)


def parse_formatted_text(
    text: str, parse_mode: str | None, entities: Any = None
) -> tuple[str, list[JSONDict]]:
    """Telegram-like text/entity computation for ``text`` + ``parse_mode``/``entities``.

    Raises :class:`ApiError` (400 "can't parse entities: ...") on malformed markup.
    Explicit ``entities`` win over ``parse_mode``, as in the Bot API.
    """
    if entities is not None:
        if isinstance(entities, str):
            try:
                entities = json.loads(entities)
            except ValueError as exc:
                raise _bad("can't parse entities JSON object") from exc
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise _bad("can't parse entities JSON object")
        return text, _sorted_entities(copy.deepcopy(entities))
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    # The bot formats in HTML only: a Markdown parse mode here would be a bug in the bot.
    raise _bad(f"unsupported parse_mode {parse_mode!r}")
