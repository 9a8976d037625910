"""What the services need from the bot layer: delivering messages to people."""

from __future__ import annotations

from typing import Protocol

from services.models import Nudge, SessionSummary, SummaryProgress


class Notifier(Protocol):
    """Delivers what the services produce to people; implemented by the bot layer.

    A message that Telegram refused raises `services.delivery.DeliveryFailed`, which says
    whether trying again can help; anything else raised counts as a transient failure.
    """

    async def send_summary(
        self, summary: SessionSummary, progress: SummaryProgress | None = None
    ) -> None:
        """Send the parts of `summary` not in `progress.done` (all of them without
        `progress`), recording each with `progress.record` once Telegram took it."""
        ...

    async def send_nudge(self, nudge: Nudge) -> None: ...
