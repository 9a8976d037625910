"""Every translation is complete and safe: each `.po` file present has every English key and
no other, the same placeholders per message and plural form, as many plural forms as its rule
says, Telegram-valid HTML with the English tags, and a header naming its own language."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.replies.format import fmt_datetime, fmt_time
from bot.text import (
    available_languages,
    catalogs,
    default_language,
    pick_language,
    placeholders,
    speaking,
    t,
)
from bot.text.catalogs import LOCALES, read_catalog
from bot.text.check import check, problems
from bot.text.en import MESSAGES
from bot.text.extract import sort_locales, sorted_po, template
from bot.text.message import Plural
from tests.conftest import make_settings
from tests.support.bot_harness import assert_valid_telegram_html
from tests.support.catalog_check import from_catalog
from tests.support.translations import locales, pseudo_po
from tests.unit.test_catalog import _sample

PO_FILES = sorted(LOCALES.glob("*.po"))


@pytest.mark.parametrize("path", PO_FILES, ids=[p.stem for p in PO_FILES])
def test_translation_is_complete(path: Path) -> None:
    assert check(path.parent)[path.name] == []


def test_a_string_a_merge_left_outside_its_entry_is_found(tmp_path: Path) -> None:
    """gettext would glue it to the message above: the check names its line instead."""
    shipped = (LOCALES / "ru.po").read_text(encoding="utf-8")
    entry = '#. Nothing to cancel.\nmsgid "prompt.nothing_to_cancel"\n'
    assert entry in shipped
    broken = shipped.replace(entry, '"/help — лишняя строка."\n\n' + entry)
    (tmp_path / "ru.po").write_text(broken, encoding="utf-8")
    [found] = check(tmp_path)["ru.po"]
    assert "a string outside any entry" in found and "лишняя строка" in found
    lone = shipped.replace(entry, 'msgstr "Лишний перевод."\n\n' + entry)
    (tmp_path / "ru.po").write_text(lone, encoding="utf-8")
    [found] = check(tmp_path)["ru.po"]
    assert "Лишний перевод" in found


@pytest.mark.parametrize("path", PO_FILES, ids=[p.stem for p in PO_FILES])
def test_translation_renders_valid_html_recognised_as_catalog_text(path: Path) -> None:
    language = path.stem
    for key, message in MESSAGES.items():
        counted = isinstance(message, Plural) or "count" in placeholders(key)
        for count in (1, 2, 5, 21) if counted else (None,):
            values = {name: _sample(name) for name in placeholders(key) if name != "count"}
            text = t(key, count=count, language=language, **values)
            assert_valid_telegram_html(text)
            assert from_catalog(str(text)), (language, key)


#: Marks that set the direction of a run of text, invisible but copied with it.
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("path", PO_FILES, ids=[p.stem for p in PO_FILES])
def test_what_a_user_copies_from_code_has_no_direction_marks(path: Path) -> None:
    """Telegram copies a <code> span with one tap; a mark inside it would go out with the
    command (then not a command): right-to-left languages put their marks outside it."""
    for key, message in read_catalog(path).messages.items():
        for form in message if isinstance(message, tuple) else (message,):
            for code in re.findall(r"<code>(.*?)</code>", form, re.S):
                assert not _BIDI_MARKS.search(code), (path.stem, key, code)


@pytest.mark.parametrize(
    ("count", "russian"),
    [
        (1, "1 студент"),
        (2, "2 студента"),
        (5, "5 студентов"),
        (11, "11 студентов"),
        (21, "21 студент"),
        (22, "22 студента"),
        (25, "25 студентов"),
        (111, "111 студентов"),
    ],
)
def test_russian_counts_agree_with_their_number(count: int, russian: str) -> None:
    assert t("plural.students", count=count, language="ru") == russian


def test_every_file_is_an_available_language() -> None:
    assert set(available_languages()) == {"en", *(p.stem for p in PO_FILES)}


def test_the_check_fails_on_a_broken_copy(tmp_path: Path) -> None:
    """Each kind of mistake is caught (a copy of a real file when there is one)."""
    source = PO_FILES[0] if PO_FILES else None
    good = source.read_text() if source else pseudo_po("ru", "[ru]")
    language = source.stem if source else "ru"
    (tmp_path / f"{language}.po").write_text(good)
    assert check(tmp_path) == {f"{language}.po": []}

    # A key dropped: the entry for `session.none_open` removed.
    lines = good.split("\n\n")
    dropped = [block for block in lines if 'msgid "session.none_open"' not in block]
    assert len(dropped) == len(lines) - 1
    (tmp_path / f"{language}.po").write_text("\n\n".join(dropped))
    assert check(tmp_path)[f"{language}.po"] == ["session.none_open: missing"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda po: po.replace("{title}", "{titel}", 1), "placeholders"),
        (lambda po: po.replace("<b>", "<x>", 1), "tag"),
        (lambda po: po.replace("</b>", "", 1), "tags"),
        # A form too few (Babel pads the forms to nplurals, so the last one is empty).
        (lambda po: re.sub(r'\nmsgstr\[2\] "[^\n]*', "", po, count=1), "[2]: empty"),
        (lambda po: po.replace("Language: ru", "Language: es"), "header Language"),
        (lambda po: po + '\nmsgid "no.such.key"\nmsgstr "x"\n', "not in the English catalog"),
    ],
)
def test_the_check_names_each_mistake(tmp_path: Path, change: object, expected: str) -> None:
    po = pseudo_po("ru", "[ru]")
    assert callable(change)
    (tmp_path / "ru.po").write_text(change(po))
    found = check(tmp_path)["ru.po"]
    assert found and any(expected in line for line in found), found


def test_a_missing_key_falls_back_to_english_for_that_key_only(tmp_path: Path) -> None:
    po = pseudo_po("ru", "[ru]", skip=frozenset({"session.none_open"}))
    with locales(tmp_path, ru=po):
        assert t("session.none_open", language="ru") == t("session.none_open", language="en")
        assert t("session.no_summary", language="ru").startswith("[ru] ")


def test_plural_forms_follow_the_file_rule(tmp_path: Path) -> None:
    po = pseudo_po("ru", "[ru]").replace(
        'msgstr[2] "[ru] {count} students"', 'msgstr[2] "[ru] {count} студентов"'
    )
    assert "студентов" in po
    with locales(tmp_path, ru=po):
        assert catalogs()["ru"].nplurals == 3
        assert t("plural.students", count=5, language="ru") == "[ru] 5 студентов"
        assert t("plural.students", count=21, language="ru") == "[ru] 21 students"
        assert t("plural.students", count=3, language="ru") == "[ru] 3 students"


def test_the_template_lists_every_key_with_its_english() -> None:
    pot = template().decode()
    assert pot.count("\nmsgid ") == len(MESSAGES)
    assert "#. Session started" in pot or "#. " in pot
    assert '"Language: \\n"' in pot


def test_a_copy_of_the_template_is_a_file_the_loader_reads(tmp_path: Path) -> None:
    (tmp_path / "de.po").write_bytes(template())
    catalog = read_catalog(tmp_path / "de.po")
    assert catalog.messages == {}  # nothing translated yet: every key reported missing
    assert len(problems(catalog)) > len(MESSAGES)


def test_the_default_language_must_be_one_we_have(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must be one of"):
        make_settings(default_language="xx")
    assert make_settings(default_language="EN").default_language == "en"
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]")):
        assert make_settings(default_language="xx").default_language == "xx"


def test_the_language_is_picked_choice_then_telegram_then_default(tmp_path: Path) -> None:
    with locales(tmp_path, xx=pseudo_po("xx", "[xx]"), yy=pseudo_po("yy", "[yy]")):
        assert pick_language("yy", "xx-AB") == "yy"
        assert pick_language(None, "xx-AB") == "xx"
        assert pick_language("gone", "XX") == "xx"  # a choice whose file was removed
        assert pick_language(None, "pt-br") == default_language() == "en"
        assert pick_language(None, None) == "en"


def test_dates_and_times_are_formatted_for_the_locale_in_the_given_zone() -> None:
    when = datetime(2026, 9, 1, 9, 5, tzinfo=UTC)
    madrid, tashkent = ZoneInfo("Europe/Madrid"), ZoneInfo("Asia/Tashkent")
    assert fmt_time(when, tashkent, "ru") == fmt_time(when, tashkent, "en") == "14:05"
    assert fmt_datetime(when, madrid, "en") == "2026-09-01 11:05"  # as before: ISO
    assert fmt_datetime(when, madrid, "ru") == "1 сент. 2026\u202fг. 11:05"
    assert fmt_datetime(when, madrid, "es") == "1 sept 2026 11:05"
    assert fmt_datetime(when, madrid, "zz") == "2026-09-01 11:05"  # unknown to Babel
    with speaking("es"):
        assert fmt_datetime(when, madrid) == "1 sept 2026 11:05"  # the update's language
    for language in ("en", "ru", "es", "fa"):
        assert from_catalog(
            t(
                "session.already_open",
                title="T",
                code="C",
                language=language,
                until=fmt_datetime(when, madrid, language),
            )
        )


def _module_level_texts(tree: ast.Module) -> Iterator[int]:
    """Lines where a module renders catalog text when imported (outside functions)."""
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in ("t", "plural"):
                yield node.lineno
        todo.extend(ast.iter_child_nodes(node))


def test_no_text_is_rendered_at_import() -> None:
    """A text rendered at import is in one language for everyone: name it in a module's
    CONSTANTS (rendered when read), or render it in a function."""
    root = Path(__file__).resolve().parents[2] / "bot"
    found = [
        f"{path.relative_to(root.parent)}:{line}"
        for path in sorted(root.rglob("*.py"))
        if "text" not in path.relative_to(root).parts[:1]
        for line in _module_level_texts(ast.parse(path.read_text()))
    ]
    assert found == []


def test_sorting_a_po_file_keeps_every_entry_and_the_header_first(tmp_path: Path) -> None:
    """`python -m bot.text.extract --sort`: entries in msgid order, each entry's lines (its
    comments, plural forms, invisible marks) exactly as they were, the header first."""
    shipped = (LOCALES / "fa.po").read_text(encoding="utf-8")
    header, *entries = shipped.strip("\n").split("\n\n")
    shuffled = "\n\n".join([header, *reversed(entries)]) + "\n"
    (tmp_path / "fa.po").write_text(shuffled, encoding="utf-8")
    (tmp_path / "xx.po").write_text(sorted_po(shuffled), encoding="utf-8")
    assert sort_locales(tmp_path) == [tmp_path / "fa.po"]  # xx.po was in order already
    ordered = (tmp_path / "fa.po").read_text(encoding="utf-8")
    assert ordered.startswith(header + "\n\n")
    assert sorted(ordered.strip("\n").split("\n\n")) == sorted([header, *entries])
    keys = re.findall(r'^msgid "(.+)"$', ordered, re.MULTILINE)
    assert keys == sorted(keys) and len(keys) == len(MESSAGES)
    assert read_catalog(tmp_path / "fa.po").messages == read_catalog(LOCALES / "fa.po").messages


@pytest.mark.parametrize("language", available_languages())
def test_the_report_columns_have_distinct_heads(language: str) -> None:
    """One letter heads each column of /report's table: two alike would read as one."""
    keys = [f"report.col.{c}" for c in ("present", "late", "excused", "absent")]
    heads = [t(key, language=language, html=False) for key in [*keys, "grading.col.grade"]]
    assert len(set(heads)) == len(heads), (language, heads)


def test_merge_conflict_markers_left_in_a_catalog_are_found(tmp_path: Path) -> None:
    """A conflict resolved by hand but with its markers left in: gettext would load one side
    (or neither) silently, so the check names each marker's line."""
    shipped = (LOCALES / "es.po").read_text(encoding="utf-8")
    entry = '#. Nothing to cancel.\nmsgid "prompt.nothing_to_cancel"\n'
    assert entry in shipped
    broken = shipped.replace(entry, "<<<<<<< HEAD\n=======\n>>>>>>> staff\n" + entry)
    (tmp_path / "es.po").write_text(broken, encoding="utf-8")
    found = check(tmp_path)["es.po"]
    assert [f.split(": a merge conflict marker: ")[1] for f in found[:3]] == [
        "<<<<<<< HEAD",
        "=======",
        ">>>>>>> staff",
    ]


SETTINGS_TOGGLES = (
    "settings.nudges_on_button",
    "settings.nudges_off_button",
    "settings.alerts_on_button",
    "settings.alerts_off_button",
)


@pytest.mark.parametrize("language", ["en", *(p.stem for p in PO_FILES)])
def test_settings_toggles_read_differently_in_every_language(language: str) -> None:
    """/settings shows the warnings and the alerts toggles side by side, the current state
    ticked: four labels a reader must tell apart without their emoji."""
    labels = [str(t(key, language=language, html=False))[2:] for key in SETTINGS_TOGGLES]
    assert len(set(labels)) == len(labels), labels
