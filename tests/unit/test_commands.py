"""The README's command tables and the command registry say the same, word for word.

The registry (`bot/commands.py`, gathered in `bot.handlers`) drives the handlers, the menus
and /help; the README is written by hand, so this test is what keeps it true.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from bot.commands import ChatKind, Command, Registry, Role
from bot.handlers import REGISTRY

README = Path(__file__).resolve().parents[2] / "README.md"
HEADINGS = {
    "Students": Role.STUDENT,
    "Teachers": Role.TEACHER,
    "Admins": Role.ADMIN,
    "Everyone": Role.EVERYONE,
}
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")

Row = tuple[Role, str, str, str]  # role, usage, chats, what it does


def readme_rows(text: str) -> list[Row]:
    """The rows of the command tables in the README's "Commands" section, by heading."""
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows: list[Row] = []
    role: Role | None = None
    for line in section.splitlines():
        heading = re.match(r"\*\*(\w+)\*\*", line)
        if heading:
            role = HEADINGS.get(heading[1])  # None: not a chat command table (Operators)
        elif line.startswith("| `/"):
            assert role is not None, f"a command row before any role heading: {line}"
            cells = [c.strip().replace("\\|", "|") for c in CELL_SEPARATOR.split(line)[1:-1]]
            assert len(cells) == 3, f"a command row needs 3 cells: {line}"
            rows.append((role, cells[0].strip("`"), cells[1], cells[2]))
    return rows


def chats_cell(command: Command) -> str:
    return ", ".join(kind.value for kind in ChatKind if kind in command.chats)


def registry_rows(registry: Registry) -> list[Row]:
    return [
        (c.role, unescape(c.usage()), chats_cell(c), unescape(c.about()))
        for c in registry.by_role()
    ]


def markdown(rows: list[Row]) -> str:
    """The rows as the README writes them (printed when they disagree, to paste)."""
    return "\n".join(
        f"{role.value}: | `{usage.replace('|', chr(92) + '|')}` | {chats} | {about} |"
        for role, usage, chats, about in rows
    )


def test_readme_command_tables_match_the_registry() -> None:
    expected = registry_rows(REGISTRY)
    found = readme_rows(README.read_text(encoding="utf-8"))
    assert found == expected, "README's command tables differ from the registry:\n" + markdown(
        expected
    )


def test_the_comparison_notices_a_difference() -> None:
    text = README.read_text(encoding="utf-8")
    expected = registry_rows(REGISTRY)
    for wrong in (
        text.replace("`/extend [minutes]`", "`/extend <minutes>`"),  # usage
        text.replace("| `/teachers` |", "| `/teacher` |"),  # name
        text.replace("**Admins**", "**Teachers**"),  # role
    ):
        assert wrong != text
        assert readme_rows(wrong) != expected
    missing = "\n".join(line for line in text.splitlines() if not line.startswith("| `/mark"))
    assert readme_rows(missing) != expected


@pytest.mark.parametrize("command", list(REGISTRY), ids=lambda c: c.name)
def test_each_command_has_its_catalog_lines(command: Command) -> None:
    usage, about = unescape(command.usage()), unescape(command.about())
    assert usage == f"/{command.name}" or usage.startswith(f"/{command.name} ")
    assert 3 <= len(about) <= 256 and "\n" not in about
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,31}", command.name)  # what Telegram allows


@pytest.mark.parametrize("command", list(REGISTRY), ids=lambda c: c.name)
def test_a_handler_docstring_that_shows_the_syntax_shows_the_registry_s(command: Command) -> None:
    """Handlers document what their parser accepts; the usage line must say the same."""
    doc = (command.callback.__doc__ or "").strip()
    if doc.startswith(f"/{command.name}"):
        first = re.split(r"[:,]\s|\n", doc, maxsplit=1)[0]
        assert first == unescape(command.usage())


def test_roles_match_the_checks_the_services_make() -> None:
    """Shown only to teachers (or admins) exactly when the handler requires that role."""
    import inspect

    for command in REGISTRY:
        source = inspect.getsource(command.callback)
        if "require_admin" in source:
            assert command.role is Role.ADMIN, command.name
        elif "require_teacher" in source or "access.require_any" in source:
            assert command.role is Role.TEACHER, command.name


def test_a_name_declared_twice_is_refused() -> None:
    [first, *_] = list(REGISTRY)
    with pytest.raises(ValueError, match="declared twice"):
        Registry([first, first])
