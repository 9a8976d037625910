"""Prometheus metrics of one bot process, served on `/metrics` in webhook mode.

Every Application gets its own `CollectorRegistry` (kept in `bot_data`), never the global one,
so tests can build several applications in one process and read exact counts from each.
Handlers and jobs call the small methods below; nothing here touches the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from services.delivery import FAILURES, KINDS, DeliveryFailed, DeliveryReport
from services.errors import DomainError, StorageUnavailable
from services.models import CheckInOutcome, SweepReport

if TYPE_CHECKING:
    from bot.context import HoldsBotData

METRICS_KEY = "metrics"

# Error kinds counted by `attn_errors_total{kind=...}`.
REDIS_UNAVAILABLE = "redis_unavailable"
POSTGRESQL_UNAVAILABLE = "postgresql_unavailable"
REJECTED = "rejected"  # a domain error answered with a short reply (bad code, not a teacher...)
TELEGRAM = "telegram"
UNEXPECTED = "unexpected"
WEBHOOK_FORBIDDEN = "webhook_forbidden"
ERROR_KINDS = (
    REDIS_UNAVAILABLE,
    POSTGRESQL_UNAVAILABLE,
    REJECTED,
    TELEGRAM,
    UNEXPECTED,
    WEBHOOK_FORBIDDEN,
)

SWEEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def error_kind(error: BaseException) -> str:
    """The `kind` label of an error raised by a handler or a job."""
    from telegram.error import TelegramError

    if isinstance(error, StorageUnavailable):
        return POSTGRESQL_UNAVAILABLE if error.backend == "PostgreSQL" else REDIS_UNAVAILABLE
    if isinstance(error, DomainError):
        return REJECTED
    if isinstance(error, TelegramError | DeliveryFailed):  # Telegram refused a message
        return TELEGRAM
    return UNEXPECTED


class Metrics:
    """The process's counters, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("attn_updates", "Telegram updates received.", registry=self.registry)
        self.checkins = Counter(
            "attn_checkins",
            "Check-in attempts answered, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.errors = Counter("attn_errors", "Errors by kind.", ["kind"], registry=self.registry)
        self.sweep_duration = Histogram(
            "attn_sweep_duration_seconds",
            "Duration of each attendance sweep (ended sessions to PostgreSQL).",
            buckets=SWEEP_BUCKETS,
            registry=self.registry,
        )
        self.sweep_sessions = Counter(
            "attn_sweep_sessions",
            "Sessions persisted to PostgreSQL by the sweeps.",
            registry=self.registry,
        )
        self.sweep_rows = Counter(
            "attn_sweep_rows",
            "Attendance rows written to PostgreSQL by the sweeps.",
            registry=self.registry,
        )
        self.summaries_sent = Counter(
            "attn_summaries_sent", "Session summaries delivered.", registry=self.registry
        )
        self.pending_summaries = Gauge(
            "attn_pending_summaries",
            "Summaries persisted but not yet delivered (as of the last sweep).",
            registry=self.registry,
        )
        self.nudges_sent = Counter(
            "attn_nudges_sent", "Attendance warnings delivered to students.", registry=self.registry
        )
        self.outbox_undeliverable = Counter(
            "attn_outbox_undeliverable",
            "Outbox rows that ended undelivered, by kind and why (unreachable: blocked, never "
            "started or chat not found; rejected: Telegram refused the message; exhausted: "
            "every attempt failed).",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.outbox_retries = Counter(
            "attn_outbox_retries",
            "Outbox deliveries that failed and were postponed (back-off), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "attn_outbox_pending",
            "Outbox rows waiting to be delivered (as of the last delivery run), by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.summaries_shown_later = Counter(
            "attn_summaries_shown_later",
            "Undelivered summaries shown to their teacher when they next wrote to the bot.",
            registry=self.registry,
        )
        # Every label value exists from the start, so a scrape shows zeros, not gaps.
        for kind in KINDS:
            self.outbox_retries.labels(kind=kind)
            self.outbox_pending.labels(kind=kind)
            for reason in FAILURES:
                self.outbox_undeliverable.labels(kind=kind, reason=reason)
        # Every check-in counts one: its children looked up once, not per check-in.
        self._checkins_by_outcome = {
            outcome.value: self.checkins.labels(outcome=outcome.value) for outcome in CheckInOutcome
        }
        for kind in ERROR_KINDS:
            self.errors.labels(kind=kind)

    def update(self) -> None:
        self.updates.inc()

    def checkin(self, outcome: CheckInOutcome | str) -> None:
        label = str(outcome)
        child = self._checkins_by_outcome.get(label) or self.checkins.labels(outcome=label)
        child.inc()

    def error(self, kind: str) -> None:
        self.errors.labels(kind=kind).inc()

    def sweep(self, seconds: float, report: SweepReport) -> None:
        self.sweep_duration.observe(seconds)
        self.sweep_sessions.inc(report.sessions_persisted)
        self.sweep_rows.inc(report.rows_written)

    def outbox(self, report: DeliveryReport, pending: dict[str, int] | None) -> None:
        """One delivery run: what was sent, retried and given up; what is still waiting."""
        self.summaries_sent.inc(report.summaries_sent)
        self.nudges_sent.inc(report.nudges_sent)
        for kind, count in report.retries.items():
            self.outbox_retries.labels(kind=kind).inc(count)
        for (kind, reason), count in report.undeliverable.items():
            self.outbox_undeliverable.labels(kind=kind, reason=reason).inc(count)
        if pending is not None:
            self.pending_summaries.set(pending.get("summary", 0))
            for kind, count in pending.items():
                self.outbox_pending.labels(kind=kind).set(count)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def metrics_of(application: HoldsBotData) -> Metrics:
    """The application's metrics, created on first use."""
    metrics: Metrics | None = application.bot_data.get(METRICS_KEY)
    if metrics is None:
        metrics = application.bot_data[METRICS_KEY] = Metrics()
    return metrics
