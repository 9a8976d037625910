"""A test-only translation: every English message marked, in the agreed `.po` format.

Used where the real `.po` files may not be there yet (the mechanism is what is tested): the
marked texts are still recognisably "translated", so a reply that stayed English shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bot.text as text_module
from bot.text import load_locales
from bot.text.en import MESSAGES
from bot.text.message import Plural

PLURAL_FORMS = {
    "ru": (
        3,
        "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)",
    ),
}


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def pseudo_po(language: str, mark: str, *, skip: frozenset[str] = frozenset()) -> str:
    """A complete `<language>.po` whose messages are the English ones after `mark`."""
    nplurals, rule = PLURAL_FORMS.get(language, (2, "(n != 1)"))
    lines = [
        'msgid ""',
        'msgstr ""',
        f'"Language: {language}\\n"',
        '"MIME-Version: 1.0\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Content-Transfer-Encoding: 8bit\\n"',
        f'"Plural-Forms: nplurals={nplurals}; plural={rule};\\n"',
        "",
    ]
    for key in sorted(MESSAGES.keys() - skip):
        message = MESSAGES[key]
        if isinstance(message, Plural):
            lines += [f"msgid {_quote(key)}", f"msgid_plural {_quote(key)}"]
            # Only form 0 of a two-form rule is for 1 alone: the others all need `{count}`.
            first = message.one if nplurals == 2 else message.other
            forms = [first] + [message.other] * (nplurals - 1)
            lines += [f"msgstr[{i}] {_quote(f'{mark} {form}')}" for i, form in enumerate(forms)]
        else:
            lines += [f"msgid {_quote(key)}", f"msgstr {_quote(f'{mark} {message}')}"]
        lines.append("")
    return "\n".join(lines)


@contextmanager
def locales(directory: Path, **files: str) -> Iterator[tuple[str, ...]]:
    """Speak the languages of `files` (language -> .po text) written into `directory`, then
    the real ones again."""
    directory.mkdir(parents=True, exist_ok=True)
    for language, content in files.items():
        (directory / f"{language}.po").write_text(content, encoding="utf-8")
    before = text_module._locales_dir
    try:
        yield load_locales(directory)
    finally:
        load_locales(before)
