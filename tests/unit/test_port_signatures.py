"""No port method takes two values of one type side by side as positional arguments.

Why: `set_anchor(sid, lon, lat)` or `release_card_edit(sid, previous, claimed, ...)` type-check
and pass review but swap the values silently. Such parameters are keyword-only (after `*`), so
mypy checks the names at every caller (issue 11, build point 1).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
from typing import Protocol

import services.ports

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


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


def _adjacent_same_type(port: type) -> list[str]:
    """`Port.method(a, b)` for each pair of adjacent positional parameters of one annotation."""
    pairs: list[str] = []
    for name, method in vars(port).items():
        if name.startswith("_") or not callable(method):
            continue
        signature = inspect.signature(method, eval_str=True)
        positional = [p for p in signature.parameters.values() if p.kind in POSITIONAL][1:]
        for left, right in itertools.pairwise(positional):
            if left.annotation == right.annotation:
                pairs.append(f"{port.__name__}.{name}({left.name}, {right.name})")
    return pairs


def test_ports_are_found() -> None:
    ports = _ports()
    assert {"CardStore", "CheckInStore", "AttendanceRecords", "ChatStateStore"} <= set(ports)


def test_no_adjacent_positional_parameters_of_one_type() -> None:
    offenders = [pair for port in _ports().values() for pair in _adjacent_same_type(port)]
    assert offenders == [], "make these keyword-only (after `*`): " + ", ".join(offenders)


def test_the_check_sees_a_swappable_pair() -> None:
    """The check itself can fail: a port with (latitude: float, longitude: float) is caught."""

    class Swappable(Protocol):
        async def set_anchor(self, session_id: str, latitude: float, longitude: float) -> bool: ...

    class Safe(Protocol):
        async def set_anchor(
            self, session_id: str, *, latitude: float, longitude: float
        ) -> bool: ...

    assert _adjacent_same_type(Swappable) == ["Swappable.set_anchor(latitude, longitude)"]
    assert _adjacent_same_type(Safe) == []
