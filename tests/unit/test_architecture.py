"""The shape of the code, measured from the source: no import circle, handlers that never
import each other, the layers bot → services → storage with no arrow back, no module over
400 lines.

Why a test: these are the measures a newcomer relies on to find their way, and each one is
easy to break in passing (one import inside a function to dodge a circle, one more branch
in a module that is already a hall). Imports are read with `ast`, nothing is imported.
Imports under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "services", "storage")
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of the product, or the top-level name of another package
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def product_files() -> dict[str, Path]:
    """Every product module by dotted name."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run: at module level, in functions, in classes; not the ones
    under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _resolve(name: str) -> str:
    """The product module a dotted name is, or the top-level name of another package."""
    modules = product_files()
    while name and name not in modules:
        if "." not in name:
            return name
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str) -> list[Import]:
    path = product_files()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: from the importer's package upwards
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from bot import replies` imports the module bot.replies when there is one.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in product_files() else base
                for alias in node.names
            ]
        for name in names:
            target = _resolve(name)
            if target != module:
                found.append(Import(module, target, node.lineno))
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    modules = product_files()
    return {
        module: frozenset(i.imported for i in imports_of(module) if i.imported in modules)
        for module in modules
    }


def find_cycle(edges: dict[str, frozenset[str]]) -> list[str] | None:
    """One import circle, as the modules along it (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def all_imports() -> list[Import]:
    return [i for module in product_files() for i in imports_of(module)]


def where(i: Import) -> str:
    return f"{product_files()[i.importer].relative_to(ROOT)}:{i.line} imports {i.imported}"


# --- the rules --------------------------------------------------------------------------


def test_the_import_graph_is_read() -> None:
    """Guards the other tests: an empty or unresolved graph would pass them all."""
    edges = graph()
    assert "bot.handlers.sessions" in edges
    assert "bot.cards" in edges["bot.handlers.sessions"]
    assert "bot.replies" in edges["bot.handlers.start"]
    assert "services.sessions" in edges["bot.bootstrap"]


def test_no_import_circle_anywhere() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_handlers_never_import_each_other() -> None:
    """Shared logic belongs in bot/ (replying, prompts, gate, cards, checkins, enrolment),
    not in a feature handler another one reaches into."""
    wrong = [
        where(i)
        for i in all_imports()
        if i.importer.startswith("bot.handlers.")
        and i.imported.startswith("bot.handlers")
        and i.imported != i.importer
    ]
    assert wrong == []


def layer_breaches(imports: list[Import]) -> list[Import]:
    """Imports that point against the layers."""
    wrong = []
    for i in imports:
        top = i.imported.split(".", 1)[0]
        layer = i.importer.split(".", 1)[0]
        if (
            (layer == "services" and top in ("bot", "telegram", "redis", "asyncpg"))
            or (layer == "storage" and top in ("bot", "telegram"))
            or (
                layer == "bot"
                and top == "storage"
                and i.importer not in ("bot.bootstrap", "bot.__main__")
            )
        ):
            wrong.append(i)
    return wrong


def test_layers_point_one_way() -> None:
    """bot → services → storage: the services know nothing of Telegram, Redis or PostgreSQL
    clients, storage knows nothing of the bot, and the bot names the concrete stores only
    where it builds them (bootstrap) or starts embedded servers (__main__)."""
    assert [where(i) for i in layer_breaches(all_imports())] == []


def test_no_product_module_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in product_files().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


# --- the measures themselves, on small made-up graphs ---------------------------------------


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset()}, None),
        (
            {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})},
            ["a", "b", "c", "a"],
        ),
        ({"a": frozenset({"b"}), "b": frozenset({"b"})}, ["b", "b"]),
    ],
)
def test_find_cycle(edges: dict[str, frozenset[str]], expected: list[str] | None) -> None:
    assert find_cycle(edges) == expected


def test_function_level_imports_count_and_type_checking_ones_do_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.app import AnyApplication\n"
        "def f():\n"
        "    from bot.menus import set_user_commands\n"
    )
    names = [
        node.module for node in _import_nodes(ast.parse(source)) if isinstance(node, ast.ImportFrom)
    ]
    assert sorted(n or "" for n in names) == ["bot.menus", "typing"]


def test_layer_breaches_are_caught() -> None:
    imports = [
        Import("services.sessions", "redis", 1),
        Import("services.sessions", "asyncpg", 2),
        Import("storage.live", "bot.settings", 3),
        Import("bot.handlers.start", "storage.live", 4),
        Import("bot.bootstrap", "storage.live", 5),
        Import("bot.handlers.start", "services.sessions", 6),
        Import("services.sessions", "services.models", 7),
    ]
    assert [i.line for i in layer_breaches(imports)] == [1, 2, 3, 4]
