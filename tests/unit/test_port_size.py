"""No port grows back into a hall: every protocol in services/ports has at most 12 methods.

Why: the old whole stores had 37 and 42 methods, so every fake implemented a third of them
and nothing checked the rest. A port that needs a 13th method is two aggregates.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Protocol

import services.ports

MAX_METHODS = 12


def _ports() -> dict[str, type]:
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(services.ports.__path__):
        module = importlib.import_module(f"services.ports.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and Protocol in value.__mro__[1:]
            ):
                found[name] = value
    return found


def _methods(port: type) -> list[str]:
    return [
        name for name, value in vars(port).items() if callable(value) and not name.startswith("_")
    ]


def test_every_port_is_found() -> None:
    ports = _ports()
    # Seventeen store ports (one per aggregate) and the notifier.
    assert {"LiveSessionStore", "CheckInStore", "SummaryOutbox", "Notifier"} <= set(ports)
    assert len(ports) >= 18


def test_no_port_has_more_than_twelve_methods() -> None:
    sizes = {name: len(_methods(port)) for name, port in _ports().items()}
    assert all(size > 0 for size in sizes.values()), sizes
    assert {name: size for name, size in sizes.items() if size > MAX_METHODS} == {}


def test_the_measure_counts_methods() -> None:
    class Wide(Protocol):
        async def a(self) -> None: ...
        async def b(self) -> None: ...

    assert _methods(Wide) == ["a", "b"]
