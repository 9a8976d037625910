"""What the projector pages need of the live store: replacing a session's links, and
hearing at once when a session's live state changes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol


class ProjectorStore(Protocol):
    """Projector links' generation and the live channel, shared by every bot process."""

    async def new_projector_generation(self, session_id: str) -> int:
        """Raise the session's projector generation (its old links stop working and its
        open pages hear of it): the new one, or 0 when the session is gone."""
        ...

    def changes(self) -> AsyncGenerator[str, None]:
        """Session ids as their live state changes (a code rotated, a check-in recorded,
        the session ended or was extended, its projector links replaced), for as long as
        it is iterated, on one connection; `StorageUnavailable` when that connection is
        lost (the caller subscribes again). Nothing is replayed: a subscriber reads the
        state itself after (re)subscribing."""
        ...
