"""While PostgreSQL is away, every in-memory record port refuses as the real store does.

The services catch `StorageUnavailable("PostgreSQL")` (storage/postgres/pool.py's `pg_guard`),
so the fakes raise exactly that, from every method of every port, and change nothing.
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, get_type_hints

import pytest

from services.errors import StorageUnavailable
from services.models import UserProfile
from services.ports import RecordStores
from tests.fakes.memory import MemoryDatabase, memory_record_stores


class _Anything:
    """An argument that is never looked at: the outage is checked before anything else."""

    def __bool__(self) -> bool:
        return True


def _port_methods() -> list[tuple[str, str]]:
    """(bundle field, method) for every method the record port protocols declare."""
    hints = get_type_hints(RecordStores)
    return [
        (f.name, name)
        for f in fields(RecordStores)
        for name, member in vars(hints[f.name]).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    ]


def _tables(db: MemoryDatabase) -> str:
    return repr(
        {f.name: getattr(db, f.name) for f in fields(db) if isinstance(getattr(db, f.name), dict)}
    )


def test_every_port_method_is_covered() -> None:
    assert len(_port_methods()) >= 50
    assert ("summaries", "outbox_pending") in _port_methods()


@pytest.mark.parametrize(("port", "method"), _port_methods())
async def test_outage_raises_storage_unavailable(port: str, method: str) -> None:
    db = MemoryDatabase()
    stores = memory_record_stores(db)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    await stores.users.upsert_profiles([UserProfile(2, "Ann", last_seen=now)])
    await stores.reachability.set_unreachable(2, "blocked", now)
    before = _tables(db)
    call: Any = getattr(getattr(stores, port), method)
    parameters = inspect.signature(call).parameters.values()
    positional = [_Anything() for p in parameters if p.kind is not p.KEYWORD_ONLY]
    by_keyword = {p.name: _Anything() for p in parameters if p.kind is p.KEYWORD_ONLY}
    with db.outage(), pytest.raises(StorageUnavailable) as refused:
        await call(*positional, **by_keyword)
    assert refused.value.backend == "PostgreSQL"
    assert _tables(db) == before
    assert db.available
    assert await stores.users.load_profile(2) is not None
