"""`records`: the same test on PostgreSQL and on the in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.ports import RecordStores
from tests.contract.backends import BACKENDS, record_backend


@pytest.fixture(
    params=[
        pytest.param(b, marks=[pytest.mark.servers] if b == "postgres" else []) for b in BACKENDS
    ]
)
async def records(request: pytest.FixtureRequest) -> AsyncIterator[RecordStores]:
    url = request.getfixturevalue("database_url") if request.param == "postgres" else None
    async with record_backend(request.param, url) as stores:
        yield stores
