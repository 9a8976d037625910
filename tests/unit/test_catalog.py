"""The catalog and the code agree: every key the code names exists and gets its values, every
key is used, plural messages have their forms, and nothing passes itself off as catalog text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import replies
from bot.replies import timetable as timetable_replies
from bot.replies.general import _INVALID, _NUMBER_RANGES
from bot.text import MissingText, Plural, Text, keys, placeholders, t
from bot.text.en import MESSAGES
from services.models import AttendanceLine, AttendanceStatus, Course, SessionSummary
from services.roster_file import RejectReason
from tests.support.bot_harness import assert_valid_telegram_html
from tests.support.catalog_check import from_catalog

ROOT = Path(__file__).resolve().parents[2]
#: Functions whose first argument is a catalog key.
KEYED = {"t", "more", "plural"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if "text" not in path.relative_to(ROOT / "bot").parts[:1]:
            yield path, ast.parse(path.read_text(), str(path))


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _keyed_calls() -> Iterator[tuple[str, ast.Call]]:
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in KEYED and node.args:
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def _literal_keys() -> set[str]:
    """Every string constant in the bot that names a key (a key may be picked in a dict)."""
    catalog = keys()
    return {
        node.value
        for _, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in catalog
    }


def _dynamic_keys() -> set[str]:
    """Keys the code builds from a prefix and a value (each listed where it is built)."""
    built = {f"error.invalid.{field}.{problem}" for field, problem in _INVALID}
    built |= {f"error.range.{field}" for field in _NUMBER_RANGES}
    built |= {f"error.range.with_unit.{unit}" for unit in set(_NUMBER_RANGES.values())}
    columns = ("name", "present", "late", "excused", "absent", "percent")
    built |= {f"report.col.{column}" for column in columns}
    built |= {f"choose.status.{status}" for status in ("present", "late", "excused", "absent")}
    built |= {f"status.{status}" for status in ("present", "late", "excused", "absent")}
    built |= set(timetable_replies.REASONS.values()) | set(timetable_replies.MISSED.values())
    built |= {f"roster.reject.{reason.value}" for reason in RejectReason}
    return built


def test_every_key_named_in_code_exists() -> None:
    missing = [
        f"{where}: {call.args[0].value}"
        for where, call in _keyed_calls()
        if isinstance(call.args[0], ast.Constant) and call.args[0].value not in keys()
    ]
    assert missing == []
    assert _dynamic_keys() - keys() == set()


def test_every_placeholder_is_supplied_and_no_other_value() -> None:
    wrong = []
    for where, call in _keyed_calls():
        if _name(call) != "t" or not isinstance(call.args[0], ast.Constant):
            continue
        key = call.args[0].value
        if any(kw.arg is None for kw in call.keywords):  # **values: checked where built
            continue
        given = {kw.arg for kw in call.keywords} - {"html", "language", None}
        expected = placeholders(key)
        if isinstance(MESSAGES[key], Plural):
            expected = expected | {"count"}
        if given != expected:
            wrong.append(f"{where}: {key} expects {sorted(expected)}, given {sorted(given)}")
    assert wrong == []


def test_every_key_is_used() -> None:
    # `command.*` keys are named by the command registry from each command's name.
    unused = keys() - _literal_keys() - _dynamic_keys()
    assert {key for key in unused if not key.startswith("command.")} == set()


def test_plural_messages_have_their_forms() -> None:
    plurals = {key: m for key, m in MESSAGES.items() if isinstance(m, Plural)}
    assert len(plurals) >= 5
    for key, message in plurals.items():
        assert message.one and message.other, key
        assert "{count}" in message.other, key
        assert placeholders(key) >= {"count"}, key
    with pytest.raises(TypeError):
        t("plural.students")
    assert t("plural.students", count=1) == "1 student"
    assert t("plural.students", count=2) == "2 students"


def test_unknown_key_fails() -> None:
    with pytest.raises(MissingText):
        t("no.such.key")


def _sample(placeholder: str) -> str:
    """A value of the kind the placeholder holds (a time, a number, a name)."""
    if placeholder in ("at", "until", "started", "ended", "when"):
        return "09:30"
    return "7"


def test_every_message_is_valid_telegram_html_and_recognised() -> None:
    for key, message in MESSAGES.items():
        counted = isinstance(message, Plural) or "count" in placeholders(key)
        for count in (1, 3) if counted else (None,):
            values = {name: _sample(name) for name in placeholders(key) if name != "count"}
            text = t(key, count=count, **values)
            assert_valid_telegram_html(text)
            assert from_catalog(str(text)), key


def test_nothing_is_declared_catalog_text_by_hand() -> None:
    """`Text("…")` or `Raw("…")` around a sentence would pass the bot tests' check unread."""
    forged = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _name(node) in {"Text", "Raw"}
        and node.args
        and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
        and (not isinstance(node.args[0], ast.Constant) or node.args[0].value != "")
    ]
    assert forged == []


def test_the_check_refuses_literals_and_accepts_catalog_text() -> None:
    assert from_catalog(Text("anything marked"))
    assert from_catalog(t("session.ended", title="Algebra <1>"))
    assert from_catalog(str(t("session.ended", title="Algebra")) + "\n\n" + t("summary.nobody"))
    assert not from_catalog("Session ended. See you!")
    assert not from_catalog(str(t("session.ended", title="Algebra")) + " Bye now.")
    # A placeholder for a number takes a number only.
    assert not from_catalog("User Ada is no longer a teacher.")
    assert from_catalog("User 42 is no longer a teacher.")


def test_composed_replies_are_recognised_without_their_type() -> None:
    """Replies that lose the `Text` type on the way (joined, cut) still pass on their words."""
    start = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    lines = [
        AttendanceLine(i, f"Student {i}", status, start + timedelta(minutes=i))
        for i, status in enumerate([AttendanceStatus.PRESENT, AttendanceStatus.LATE] * 80)
    ]
    summary = SessionSummary("s1", 1, 1, "Math", start, start + timedelta(hours=1), lines)
    texts = [
        replies.summary_text(summary, UTC),
        replies.privacy_text(30),
        replies.course_settings(Course(1, 1, "Algebra & co", "ABCD1234", "tok", 10, 75), UTC),
        replies.forget_confirm(True),
        replies.missing_list([]),
    ]
    for text in texts:
        assert from_catalog(str(text)), text
        assert not from_catalog(str(text) + "\nP.S. written inline")
