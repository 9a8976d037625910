"""Write the template a translator starts from: `python -m bot.text.extract`.

Writes `bot/text/locales/attn.pot` from the English catalog (`bot.text.en`): one entry per key,
sorted, the key as msgid and the English as an extracted comment (a plural message as
`one | other`), in the format every `<lang>.po` follows. Copy it to `<lang>.po`, set the header's
Language and Plural-Forms, fill in the msgstr lines: the language is available at the next start.
"""

from __future__ import annotations

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


def main(path: Path = TEMPLATE) -> int:
    path.write_bytes(template())
    print(f"wrote {path} ({len(MESSAGES)} keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
