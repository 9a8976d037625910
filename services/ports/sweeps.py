"""Handing finished sessions over from the live store to the records, exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.ports.values import SweepClaim


class SweepStore(Protocol):
    """Finished sessions: found, sealed and leased, then let go once saved."""

    async def due_sessions(self, now: datetime, limit: int) -> list[str]: ...
    async def claim_for_sweep(
        self, session_id: str, now: datetime, lease_seconds: float
    ) -> SweepClaim | None: ...
    async def release_sweep(self, session_id: str, *, token: str) -> None: ...
    async def finish_sweep(self, claim: SweepClaim) -> bool: ...
