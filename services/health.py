"""Readiness: does each store answer a trivial request within a short time?"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


class Pingable(Protocol):
    async def ping(self) -> None:
        """Return when the backend answers; raise when it does not."""


async def readiness(
    checks: Mapping[str, Pingable], seconds: float = READY_TIMEOUT_SECONDS
) -> dict[str, bool]:
    """Ping every backend at once; True for each that answered within `seconds`."""

    async def one(name: str, backend: Pingable) -> bool:
        try:
            await asyncio.wait_for(backend.ping(), seconds)
        except Exception as exc:
            log.debug("readiness: %s not ready (%s)", name, type(exc).__name__)
            return False
        return True

    names = list(checks)
    results = await asyncio.gather(*(one(name, checks[name]) for name in names))
    return dict(zip(names, results, strict=True))
