"""JobQueue callbacks: thin wrappers that call the services."""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram.ext import Application

from bot.context import AttnContext
from bot.metrics import error_kind, metrics_of
from bot.notifier import TelegramNotifier
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)


async def sweep_attendances_task(context: AttnContext) -> None:
    """Persist ended sessions, then deliver the summaries waiting in the outbox."""
    services = context.services
    metrics = metrics_of(context.application)
    try:
        started = time.perf_counter()
        report = await services.sweeper.sweep_attendances()
        metrics.sweep(time.perf_counter() - started, report)
        if report.sessions_persisted or report.failures:
            log.info("attendance sweep: %s", report)
        sent = await services.sweeper.deliver_summaries(TelegramNotifier(context.bot, context.tz))
        metrics.summaries(sent, await services.records.pending_summary_count())
    except StorageUnavailable as exc:
        metrics.error(error_kind(exc))
        log.warning("attendance sweep postponed: %s", exc)


async def sweep_users_task(context: AttnContext) -> None:
    """Move idle user profiles from Redis to PostgreSQL."""
    try:
        moved = await context.services.users.sweep_idle_users()
        if moved:
            log.info("user sweep: %d idle profiles persisted", moved)
    except StorageUnavailable as exc:
        log.warning("user sweep postponed: %s", exc)


async def rotate_codes_task(context: AttnContext) -> None:
    """Give sessions whose code rotation is due a fresh code."""
    try:
        rotated = await context.services.sessions.rotate_due_codes()
        if rotated:
            log.debug("rotated the codes of %d sessions", len(rotated))
    except StorageUnavailable as exc:
        log.warning("code rotation postponed: %s", exc)


async def retention_task(context: AttnContext) -> None:
    """Delete attendance older than the retention period (daily)."""
    try:
        deleted = await context.services.privacy.apply_retention()
        if deleted:
            log.info("retention: deleted %d old sessions with their records", deleted)
    except StorageUnavailable as exc:
        log.warning("retention job postponed: %s", exc)


def schedule_jobs(
    application: Application[Any, Any, Any, Any, Any, Any], sweep_seconds: float
) -> None:
    """Register the sweeps; one run at a time per process, missed runs coalesced."""
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    job_kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    job_queue.run_repeating(
        sweep_attendances_task,
        interval=sweep_seconds,
        first=1.0,
        name="sweep_attendances_task",
        job_kwargs=job_kwargs,
    )
    job_queue.run_repeating(
        sweep_users_task,
        interval=sweep_seconds,
        first=2.0,
        name="sweep_users_task",
        job_kwargs=job_kwargs,
    )
    job_queue.run_repeating(
        retention_task,
        interval=24 * 3600,
        first=60.0,
        name="retention_task",
        job_kwargs=job_kwargs,
    )
    job_queue.run_repeating(
        rotate_codes_task,
        interval=1.0,
        first=1.0,
        name="rotate_codes_task",
        job_kwargs=job_kwargs,
    )
