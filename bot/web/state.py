"""What the routes share with the server that runs them: stopping, and updates in flight."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass


class WebState:
    """Set by `WebServer.stop_accepting`; read by routes (`request.app.state.web`).

    Long-lived responses (server-sent events, WebSockets) end when `stopping` is set, so the
    process stops within its deadline instead of waiting for them to be cut off.
    """

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closing(self) -> bool:
        return self.stopping.is_set()

    @property
    def in_flight(self) -> int:
        """Webhook updates being handled now."""
        return self._in_flight

    def begin(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def end(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    async def idle(self) -> None:
        """Return once no webhook update is being handled."""
        await self._idle.wait()


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, and the secret token it sends with each."""

    path: str
    secret: bytes

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a webhook needs a secret token")

    def secret_matches(self, given: str | None) -> bool:
        if given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.secret)
