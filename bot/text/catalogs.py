"""The translations: one gettext PO file per language in `bot/text/locales/<lang>.po`.

English stays in Python (`bot.text.en`), the source every other language is checked against;
each `.po` file names the catalog keys as msgids (see the README's "Languages"). Files are read
once, with Babel, when first asked for; a language is available when its file is present, so
adding a language is adding one file.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locales")
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Catalog:
    """One language's messages by key: a str, or a tuple of forms for a plural message."""

    language: str
    messages: Mapping[str, str | tuple[str, ...]]
    nplurals: int
    plural_expr: str
    #: The language named in the file's header (the check compares it with the file name).
    header_language: str
    _plural: Callable[[int], int]

    def plural_index(self, count: int) -> int:
        """Which msgstr[i] a count takes, by the file's Plural-Forms."""
        return min(max(int(self._plural(count)), 0), self.nplurals - 1)


def read_catalog(path: Path) -> Catalog:
    """A `.po` file as a catalog; an entry without a translation is left out (missing)."""
    with path.open("rb") as file:
        po = read_po(file, ignore_obsolete=True)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in po:
        if not message.id:
            continue  # the header
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if isinstance(message.string, tuple | list):
            forms = tuple(str(form) for form in message.string)
            if any(forms):
                messages[str(key)] = forms
        elif message.string:
            messages[str(key)] = str(message.string)
    expr = po.plural_expr or "(n != 1)"
    header = dict(po.mime_headers)
    return Catalog(
        language=path.stem,
        messages=messages,
        nplurals=int(po.num_plurals or 2),
        plural_expr=expr,
        header_language=str(header.get("Language", "")),
        _plural=gettext.c2py(expr),
    )


def read_locales(directory: Path = LOCALES) -> dict[str, Catalog]:
    """Every `<lang>.po` of a directory, by language code (the file's name)."""
    if not directory.is_dir():
        return {}
    return {path.stem: read_catalog(path) for path in sorted(directory.glob("*.po"))}
