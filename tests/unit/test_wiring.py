"""The composition root hands each service only the narrow ports it uses, and the services
stay free of Telegram, Redis and PostgreSQL client libraries."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import typing
from dataclasses import fields
from pathlib import Path

import pytest

from bot.bootstrap import wire_services
from bot.container import Services
from services import ports
from services.clock import ManualClock
from services.ports import LiveStores, RecordStores
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("telegram", "redis", "asyncpg")
NARROW = {
    getattr(ports, name)
    for name in ports.__all__
    if getattr(getattr(ports, name), "_is_protocol", False)
} - {ports.Notifier}


class Port:
    """A stand-in for one port of one bundle, so the test sees which port went where."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Port({self.name})"


def marked_bundles() -> tuple[LiveStores, RecordStores]:
    live = LiveStores(**{f.name: Port(f"live.{f.name}") for f in fields(LiveStores)})
    records = RecordStores(**{f.name: Port(f"records.{f.name}") for f in fields(RecordStores)})
    return live, records


def wired() -> Services:
    live, records = marked_bundles()
    return wire_services(make_settings(), live, records, ManualClock())


def service_objects(services: Services) -> dict[str, object]:
    skip = {"live", "records", "redis", "pool"}
    return {f.name: getattr(services, f.name) for f in fields(Services) if f.name not in skip}


def held_ports(owner: str, obj: object, seen: set[int]) -> set[str]:
    """The ports `obj` holds, itself or through the service parts it owns (a courier)."""
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    found: set[str] = set()
    for attr, value in vars(obj).items():
        assert not isinstance(value, LiveStores | RecordStores), f"{owner}.{attr} is a bundle"
        if isinstance(value, Port):
            found.add(value.name)
        elif type(value).__module__.startswith("services.") and hasattr(value, "__dict__"):
            found |= held_ports(f"{owner}.{attr}", value, seen)
    return found


def test_every_service_is_wired_and_holds_ports_not_bundles() -> None:
    services = wired()
    used: set[str] = set()
    for name, service in service_objects(services).items():
        assert service is not None, name
        used |= held_ports(name, service, set())
    every = {f"live.{f.name}" for f in fields(LiveStores)}
    every |= {f"records.{f.name}" for f in fields(RecordStores)}
    assert used == every, f"ports no service uses: {sorted(every - used)}"
    assert services.live is not None and services.records is not None


def test_the_composition_root_hands_out_the_bundles_it_was_given() -> None:
    live, records = marked_bundles()
    services = wire_services(make_settings(), live, records, ManualClock())
    assert services.live is live and services.records is records
    assert services.redis is None and services.pool is None


def test_service_constructors_name_narrow_ports_by_keyword() -> None:
    """Every store a service takes is one narrow protocol, passed by keyword."""
    for name, service in service_objects(wired()).items():
        init = type(service).__init__
        hints = typing.get_type_hints(init)
        for param in inspect.signature(init).parameters.values():
            hint = hints.get(param.name)
            options = [o for o in typing.get_args(hint) or (hint,) if isinstance(o, type)]
            if any(option in NARROW for option in options):
                assert param.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}: {param.name}"
            assert not any(option in (LiveStores, RecordStores) for option in options), (
                f"{name}.{param.name} takes a whole bundle"
            )


def _service_modules() -> list[Path]:
    return sorted((ROOT / "services").rglob("*.py"))


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_service_module_imports_a_client_library(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not node.level
    ]
    bad = [name for name in imported if name.split(".")[0] in FORBIDDEN]
    assert not bad, f"{path.name} imports {bad}"


def test_importing_every_service_loads_no_client_library() -> None:
    """Nor indirectly: a fresh interpreter importing all of `services` has none loaded."""
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _service_modules()
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
