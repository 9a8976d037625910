"""Is every translation complete? `python -m bot.text.check` (and tests/unit/test_translations.py).

For each `bot/text/locales/<lang>.po`: every key of the English catalog is there and no other,
each message (each plural form) has exactly the English placeholders, a plural message has as
many forms as the file's `nplurals`, the tags are the English ones, balanced, and Telegram's,
and the header's Language is the file's name. Exits 1 and lists the problems when one is found.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from string import Formatter

from bot.text.catalogs import LOCALES, Catalog, read_catalog
from bot.text.en import MESSAGES as ENGLISH
from bot.text.message import Message, Plural

#: The tags Telegram's HTML parse mode knows.
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"}
    | {"tg-spoiler", "tg-emoji", "span", "blockquote"}
)
_TAG = re.compile(r"<(/?)([a-z-]+)(?:\s[^<>]*)?>")


def names(template: str) -> set[str]:
    """The placeholders of one form (`{title}` → `title`)."""
    try:
        return {name for _, name, _, _ in Formatter().parse(template) if name}
    except ValueError:
        return {"<malformed braces>"}


def tags(template: str) -> Counter[str]:
    return Counter(f"{closing}{name}" for closing, name in _TAG.findall(template))


def html_problems(template: str) -> list[str]:
    """Unknown or unbalanced tags (the placeholders' values are escaped, so only the
    template's own tags count)."""
    problems = []
    stack: list[str] = []
    for closing, name in _TAG.findall(template):
        if name not in TELEGRAM_TAGS:
            problems.append(f"tag <{name}> is not Telegram HTML")
        elif not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            problems.append(f"unbalanced </{name}>")
    problems.extend(f"unclosed <{name}>" for name in stack)
    bare = _TAG.sub("", template)
    if "<" in bare or ">" in bare:
        problems.append("a bare < or > (write &lt; / &gt;)")
    return problems


def _english_forms(message: Message) -> list[str]:
    return [message.one, message.other] if isinstance(message, Plural) else [message]


def _only_one(catalog: Catalog, form: int) -> bool:
    """Is this the singular form: the one for n = 1, serving no n of 2 or more (Persian's
    also serves 0)? It may then say "a minute" without `{count}`, as English does; a form
    that also serves 21 (Russian's first) may not."""
    serves = {n for n in range(1000) if catalog.plural_index(n) == form}
    return 1 in serves and not any(n >= 2 for n in serves)


def problems(catalog: Catalog) -> list[str]:
    """What is wrong with one translation, as readable lines (empty: complete)."""
    found: list[str] = []
    if catalog.header_language.strip().lower() != catalog.language:
        found.append(
            f"header Language {catalog.header_language!r} is not the file's {catalog.language!r}"
        )
    found.extend(f"{key}: not in the English catalog" for key in catalog.messages.keys() - ENGLISH)
    for key, message in ENGLISH.items():
        translated = catalog.messages.get(key)
        if translated is None:
            found.append(f"{key}: missing")
            continue
        english = _english_forms(message)
        wanted_names = set().union(*(names(form) for form in english))
        wanted_tags = tags(english[-1])
        if isinstance(message, Plural):
            if not isinstance(translated, tuple):
                found.append(f"{key}: a plural message needs msgid_plural and msgstr[i]")
                continue
            if len(translated) != catalog.nplurals:
                found.append(f"{key}: {len(translated)} plural forms, nplurals={catalog.nplurals}")
            forms = list(translated)
        elif isinstance(translated, tuple):
            found.append(f"{key}: not a plural message in English")
            continue
        else:
            forms = [translated]
        for i, form in enumerate(forms):
            where = f"{key}[{i}]" if len(forms) > 1 else key
            if not form.strip():
                found.append(f"{where}: empty")
                continue
            wanted = wanted_names
            if isinstance(message, Plural) and _only_one(catalog, i):
                wanted = wanted_names - {"count"} | (names(form) & {"count"})
            if names(form) != wanted:
                found.append(
                    f"{where}: placeholders {sorted(names(form))}, English has "
                    f"{sorted(wanted_names)}"
                )
            if tags(form) != wanted_tags:
                found.append(f"{where}: tags {dict(tags(form))}, English has {dict(wanted_tags)}")
            found.extend(f"{where}: {problem}" for problem in html_problems(form))
    return found


def stray_strings(text: str) -> list[str]:
    """Strings outside any entry (a quoted or msgstr line after a blank or a comment line), as
    a merge of two changes to one message can leave behind: gettext glues a quoted line to the
    entry above, and drops a lone msgstr, both silently."""
    lines = text.split("\n")
    return [
        f"line {number}: a string outside any entry: {line[:60]}"
        for number, (before, line) in enumerate(zip(["#", *lines], lines, strict=False), start=1)
        if line.startswith(('"', "msgstr")) and (not before.strip() or before.startswith("#"))
    ]


CONFLICT_MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ", "||||||| ")


def conflict_markers(text: str) -> list[str]:
    """Lines a merge conflict left in the file: gettext reads them as comments or errors
    and would load either side of the conflict, or neither, without a word."""
    return [
        f"line {number}: a merge conflict marker: {line[:60]}"
        for number, line in enumerate(text.split("\n"), start=1)
        if line.startswith(CONFLICT_MARKERS)
    ]


def check(directory: Path = LOCALES) -> dict[str, list[str]]:
    """The problems of every `.po` file of `directory`, by file name."""
    return {
        path.name: conflict_markers(text := path.read_text(encoding="utf-8"))
        + stray_strings(text)
        + problems(read_catalog(path))
        for path in sorted(directory.glob("*.po"))
    }


def main() -> int:
    failed = False
    for name, found in check().items():
        for line in found:
            print(f"{name}: {line}")
        failed = failed or bool(found)
        if not found:
            print(f"{name}: complete")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
