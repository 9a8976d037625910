"""A recording notifier for fast unit tests (the in-memory records are tests/fakes/memory)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.models import (
    SessionSummary,
    SummaryPart,
    SummaryProgress,
)


@dataclass
class RecordingNotifier:
    """Collects the summaries it is asked to send, part by part as the Telegram notifier
    sends them (text, card, CSV); can be told to fail, as a whole or at one part."""

    sent: list[SessionSummary] = field(default_factory=list)
    fail: bool = False
    #: Raised for these teachers only (e.g. a `DeliveryFailed` the bot layer would raise).
    errors: dict[int, Exception] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    #: Raised, one per attempt and in order, when that part is reached.
    part_errors: dict[SummaryPart, list[Exception]] = field(default_factory=dict)
    #: Every part Telegram "took": (session id, part).
    parts: list[tuple[str, SummaryPart]] = field(default_factory=list)

    async def send_summary(
        self, summary: SessionSummary, progress: SummaryProgress | None = None
    ) -> None:
        self.attempts.append(summary.session_id)
        if self.fail:
            raise RuntimeError("Telegram unreachable")
        if summary.teacher_id in self.errors:
            raise self.errors[summary.teacher_id]
        for part in SummaryPart:
            if progress is not None and part in progress.done:
                continue
            if self.part_errors.get(part):
                raise self.part_errors[part].pop(0)
            self.parts.append((summary.session_id, part))
            if progress is not None:
                await progress.record(part)
        self.sent.append(summary)
