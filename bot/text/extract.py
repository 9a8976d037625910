"""Write the template a translator starts from: `python -m bot.text.extract`.

Writes `bot/text/locales/attn.pot` from the English catalog (`bot.text.en`): one entry per key,
sorted, the key as msgid and the English as an extracted comment (a plural message as
`one | other`), in the format every `<lang>.po` follows. Copy it to `<lang>.po`, set the header's
Language and Plural-Forms, fill in the msgstr lines: the language is available at the next start.

`python -m bot.text.extract --sort` puts the entries of every `<lang>.po` in msgid order (a key
added anywhere lands in one place, so parallel changes to a file rarely conflict); each entry's
text, comments and the header are kept as they are.
"""

from __future__ import annotations

import re
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.text.catalogs import LOCALES
from bot.text.en import MESSAGES
from bot.text.message import Plural

TEMPLATE = LOCALES / "attn.pot"
#: The header of the agreed format; a translation fills in Language and its Plural-Forms.
HEADER = """msgid ""
msgstr ""
"Language: \\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"""


def template() -> bytes:
    """The .pot file's content (no dates: it changes only when the English does)."""
    catalog = Catalog(project="ATTN", charset="utf-8", fuzzy=False)
    for key in sorted(MESSAGES):
        message = MESSAGES[key]
        if isinstance(message, Plural):
            catalog.add((key, key), ("", ""), auto_comments=[f"{message.one} | {message.other}"])
        else:
            catalog.add(key, "", auto_comments=[message])
    out = BytesIO()
    write_po(out, catalog, width=100, omit_header=True, sort_output=True)
    return (HEADER + "\n" + out.getvalue().decode().lstrip("\n")).encode()


_MSGID = re.compile(r'^msgid "(.*)"$', re.MULTILINE)


def sorted_po(text: str) -> str:
    """A `.po` file's text with its entries in msgid order: entries are the blank-line separated
    blocks (a string's lines never hold a blank line), the header (`msgid ""`) stays first."""
    blocks = [block for block in text.strip("\n").split("\n\n") if block.strip()]

    def msgid(block: str) -> str:
        found = _MSGID.search(block)
        return found.group(1) if found else ""

    return "\n\n".join(sorted(blocks, key=msgid)) + "\n"


def sort_locales(directory: Path = LOCALES) -> list[Path]:
    """Sort every `<lang>.po` of `directory` in place; the files that changed."""
    changed = []
    for path in sorted(directory.glob("*.po")):
        text = path.read_text(encoding="utf-8")
        if (ordered := sorted_po(text)) != text:
            path.write_text(ordered, encoding="utf-8")
            changed.append(path)
    return changed


def main(path: Path = TEMPLATE, argv: list[str] | None = None) -> int:
    if "--sort" in (sys.argv[1:] if argv is None else argv):
        changed = sort_locales(path.parent)
        print("sorted " + (", ".join(p.name for p in changed) if changed else "nothing (in order)"))
        return 0
    path.write_bytes(template())
    print(f"wrote {path} ({len(MESSAGES)} keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
