"""The text catalog: every string a user can see, by key, with its plural forms.

Handlers and renderers never write user text inline: they ask the catalog for a key and pass
the values to put in it. `t()` escapes those values for Telegram's HTML, so a name or a title
can never break a message, and returns a `Text`, the only kind of string the reply plumbing is
meant to send (the bot tests refuse any other, see `tests/support`). Messages live in
`bot/text/en/*.py`, one module per area (English, the source); every other language is one
gettext file, `bot/text/locales/<lang>.po`, keyed by the same keys (`bot.text.catalogs`).

Which language: `language=` when a job writes to someone else (their language), else the
language of the update being handled, set once per update by `use_language` (a context
variable, so concurrent updates never mix), else the installation's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from html import escape
from pathlib import Path
from string import Formatter

from bot.text.catalogs import LOCALES, SOURCE_LANGUAGE, Catalog, read_locales
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


_locales_dir: Path = LOCALES
_default_language = SOURCE_LANGUAGE
_LANGUAGE: ContextVar[str | None] = ContextVar("attn_language", default=None)


@cache
def _catalogs(directory: Path) -> dict[str, Catalog]:
    return read_locales(directory)


def catalogs() -> Mapping[str, Catalog]:
    """The translations present, by language (English, the source, is not among them)."""
    return _catalogs(_locales_dir)


def load_locales(directory: Path | None = None) -> tuple[str, ...]:
    """Read the translations (at start-up, so a broken file fails there, not in a reply);
    `directory` replaces `bot/text/locales` (tests with a catalog of their own)."""
    global _locales_dir
    if directory is not None:
        _locales_dir = directory
    catalogs()
    return available_languages()


def available_languages() -> tuple[str, ...]:
    """English and every language with a `.po` file."""
    return _available(_locales_dir)


@cache
def _available(directory: Path) -> tuple[str, ...]:
    """Worked out once per catalog directory: every update asks (`pick_language`)."""
    languages = _catalogs(directory)
    return (SOURCE_LANGUAGE, *sorted(lang for lang in languages if lang != SOURCE_LANGUAGE))


def set_default_language(language: str) -> None:
    """The installation's language (`ATTN_DEFAULT_LANGUAGE`), for users we know nothing of."""
    global _default_language
    if language not in available_languages():
        raise ValueError(f"no catalog for language {language!r}")
    _default_language = language


def default_language() -> str:
    return _default_language


def pick_language(choice: str | None, language_code: str | None) -> str:
    """The user's own choice, else their Telegram language (its first subtag: `pt-br` is
    `pt`), else the installation's default; only languages we have."""
    available = available_languages()
    if choice and choice in available:
        return choice
    if language_code:
        primary = language_code.split("-")[0].split("_")[0].lower()
        if primary in available:
            return primary
    return _default_language


def current_language() -> str:
    """The language of the update being handled (the default outside one)."""
    return _LANGUAGE.get() or _default_language


def use_language(language: str | None) -> Token[str | None]:
    """Speak `language` for the rest of this update (this task and the tasks it starts)."""
    return _LANGUAGE.set(language)


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Speak `language` inside the block (a job writing to someone: their language), then
    the language of before; None keeps the current one."""
    if language is None:
        yield
        return
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def _english(key: str) -> Message:
    try:
        return ENGLISH[key]
    except KeyError:
        raise MissingText(key) from None


def _template(key: str, language: str | None, count: int | None) -> str:
    message = _english(key)
    if isinstance(message, Plural) and count is None:
        raise TypeError(f"{key} is a plural message: pass count=")
    lang = language or current_language()
    catalog = catalogs().get(lang) if lang != SOURCE_LANGUAGE else None
    translated = catalog.messages.get(key) if catalog is not None else None
    if catalog is not None and translated is not None:
        if isinstance(translated, tuple):
            if count is not None:
                return translated[min(catalog.plural_index(count), len(translated) - 1)]
        elif not isinstance(message, Plural):
            return translated
    # English, per key, only when the translation lacks it (the translation check fails then).
    if isinstance(message, Plural):
        assert count is not None
        return message.form(count)
    return message


def _value(value: object, html: bool) -> str:
    if isinstance(value, Text | Raw) or not html:
        return str(value)
    return escape(str(value))


def t(
    key: str,
    /,
    *,
    count: int | None = None,
    html: bool = True,
    language: str | None = None,
    **values: object,
) -> Text:
    """The message `key` with `values` put in (escaped for HTML unless `html=False` or the
    value is a `Text`/`Raw`); `count` chooses the plural form and is available as `{count}`;
    `language` (a recipient's, for jobs) overrides the update's language."""
    template = _template(key, language, count)
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
    message = _english(key)
    forms = [message.one, message.other] if isinstance(message, Plural) else [message]
    return {name for form in forms for _, name, _, _ in Formatter().parse(form) if name}


def keys() -> frozenset[str]:
    return frozenset(ENGLISH)


#: A named text: a key, `(key, False)` for plain text (a button's label), or a function
#: composing catalog texts.
Named = str | tuple[str, bool] | Callable[[], Text]


def constants(table: Mapping[str, Named]) -> Callable[[str], Text]:
    """A module `__getattr__` for named texts (`replies.BAD_BUTTON`): rendered when read, so
    in the language of the update reading them, not once at import."""

    def __getattr__(name: str) -> Text:
        try:
            entry = table[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(entry, tuple):
            return t(entry[0], html=entry[1])
        if isinstance(entry, str):
            return t(entry)
        return entry()

    return __getattr__


__all__ = [
    "MissingText",
    "Named",
    "Plural",
    "Raw",
    "Text",
    "available_languages",
    "catalogs",
    "constants",
    "current_language",
    "default_language",
    "join",
    "keys",
    "load_locales",
    "pick_language",
    "placeholders",
    "set_default_language",
    "speaking",
    "t",
    "use_language",
]
