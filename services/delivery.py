"""Outbound delivery that never stalls: per-row retries, final states, unreachable users.

Every outbox (session summaries, attendance nudges, and any added later) goes through the same
rules, so one bad row can never hold up the rows behind it:

* a row is claimed only when it is due (not leased, past its back-off, not final);
* a failure Telegram calls permanent (the user blocked the bot, never started it, was
  deactivated, or the chat does not exist) ends the row at once and marks its recipient
  unreachable, so nothing more is queued to them until they write to the bot again;
* any other failure postpones the row with exponential back-off (at least Telegram's
  `retry_after`), and after `RetryPolicy.max_attempts` attempts the row ends as well;
* a teacher's summary that ended undelivered is shown to them the next time they write.

The bot layer classifies Telegram's errors (the services never import `telegram`) and raises
`DeliveryFailed`; anything else a notifier raises is treated as transient.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from services.clock import Clock
from services.models import SessionSummary, SummaryPart, SummaryProgress
from services.ports import Reachability, SummaryOutbox

log = logging.getLogger(__name__)

T = TypeVar("T")

# Outbox kinds (the `kind` label of the metrics).
SUMMARY = "summary"
NUDGE = "nudge"
KINDS = (SUMMARY, NUDGE)

# Why a row ended undelivered (stored in the outbox's `failure` column; the `reason` label).
UNREACHABLE = "unreachable"  # blocked, never started, deactivated, chat not found
REJECTED = "rejected"  # Telegram refused this message itself: sending it again cannot help
EXHAUSTED = "exhausted"  # transient failures until the attempts ran out
FAILURES = (UNREACHABLE, REJECTED, EXHAUSTED)


@dataclass
class DeliveryFailed(Exception):
    """Telegram did not take a message; says whether trying again can help.

    Attributes:
        reason: what Telegram answered, for the logs and the outbox's `last_error`.
        permanent: sending the same message again can never succeed.
        unreachable: the recipient cannot be written to at all (implies permanent).
        retry_after: Telegram asked to wait this many seconds (flood control).
    """

    reason: str
    permanent: bool = False
    unreachable: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off per row: 15 s, 30 s, 1 min ... capped at 30 min, 10 attempts
    (about 1.5 hours of a Telegram outage before a row ends; a summary that ended this way
    is still shown to its teacher when they next write)."""

    max_attempts: int = 10
    base_seconds: float = 15.0
    cap_seconds: float = 1800.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1 = the first)."""
        delay: float = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        return max(delay, retry_after or 0.0)


@dataclass
class DeliveryReport:
    """What one delivery run did, for logs, metrics and tests."""

    summaries_sent: int = 0
    nudges_sent: int = 0
    retries: Counter[str] = field(default_factory=Counter)  # by kind
    undeliverable: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, failure)
    unreachable: set[int] = field(default_factory=set)  # recipients found unreachable


async def summary_progress(
    records: SummaryOutbox, session_id: str, checkpoint: Callable[[str], None] | None = None
) -> SummaryProgress:
    """What of a queued summary Telegram already took, recorded part by part in its row.

    `checkpoint("summary.<part>")` runs between Telegram taking a part and the row recording
    it (the fault tests kill the process there: that part alone is sent again).
    """
    done = await records.summary_parts_sent(session_id)

    async def record(part: SummaryPart) -> None:
        if checkpoint is not None:
            checkpoint(f"summary.{part.value}")
        await records.mark_summary_part_sent(session_id, part)

    return SummaryProgress(done, record)


def as_failure(exc: Exception) -> DeliveryFailed:
    """The notifier's verdict, or a transient failure for anything it did not classify."""
    if isinstance(exc, DeliveryFailed):
        return exc
    return DeliveryFailed(f"{type(exc).__name__}: {exc}")


class DeliveryService:
    """Who the bot can write to, and the summaries a teacher missed.

    Keeps, per process, the set of users who need attention when they write (unreachable
    users, teachers with a summary that ended undelivered), refreshed from PostgreSQL at each
    delivery run, so the updates of everyone else cost nothing extra.
    """

    def __init__(
        self,
        *,
        summaries: SummaryOutbox,
        reachability: Reachability,
        clock: Clock,
        lease_seconds: float = 60.0,
    ) -> None:
        self._summaries = summaries
        self._reachability = reachability
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._awaited: set[int] = set()

    async def refresh(self) -> None:
        """Reload who needs attention (so every process learns of blocks and failures)."""
        self._awaited = await self._reachability.awaited_users()

    def awaits(self, user_id: int) -> bool:
        return user_id in self._awaited

    async def recipient_blocked(self, user_id: int) -> None:
        """The user blocked the bot: nothing more is queued to them, queued rows end."""
        await self._reachability.set_unreachable(user_id, "blocked the bot", self._clock.now())
        self._awaited.add(user_id)

    async def recipient_unblocked(self, user_id: int) -> None:
        """The user unblocked the bot: reachable again (missed summaries wait for a message)."""
        await self._reachability.set_reachable(user_id)

    async def recipient_back(self, user_id: int) -> list[SessionSummary]:
        """The user wrote to the bot: reachable again; returns the summaries they missed,
        leased to this caller, to be shown now and confirmed with `summary_shown`."""
        if user_id not in self._awaited:
            return []
        self._awaited.discard(user_id)
        await self._reachability.set_reachable(user_id)
        summaries = []
        claimed = await self._summaries.claim_undelivered_summaries(
            user_id, self._clock.now(), self._lease_seconds
        )
        for session_id in claimed:
            summary = await self._summaries.load_summary(session_id)
            if summary is not None:
                summaries.append(summary)
        return summaries

    async def summary_shown(self, session_id: str) -> None:
        await self._summaries.mark_summary_sent(session_id, self._clock.now())

    async def summary_progress(self, session_id: str) -> SummaryProgress:
        """The parts of an undelivered summary already taken (not to be shown twice)."""
        return await summary_progress(self._summaries, session_id)

    async def summary_sent_on_request(self, session_id: str) -> None:
        """The teacher asked for this summary (/summary) and Telegram took all of it: a row
        still queued for it, or ended undelivered, is delivered now, so neither the courier
        nor the "missed summaries" follow-up sends it a second time."""
        await self._summaries.mark_summary_sent(session_id, self._clock.now())

    async def summary_not_shown(self, summary: SessionSummary, error: Exception) -> None:
        """Showing it failed as well: it stays undelivered, to be shown at the next message."""
        failure = as_failure(error)
        await self._summaries.release_summary(summary.session_id)
        self._awaited.add(summary.teacher_id)
        if failure.unreachable:
            now = self._clock.now()
            await self._reachability.set_unreachable(summary.teacher_id, failure.reason, now)
        log.warning("undelivered summary of %s not shown: %s", summary.session_id, failure)

    async def outbox_pending(self) -> dict[str, int]:
        """Rows still waiting in the outbox by kind (for the metrics)."""
        return await self._summaries.outbox_pending()
