"""JobQueue callbacks: thin wrappers that call the services.

Every job does its work again at its next tick, so storage being away only postpones it:
`postponed_while_storage_away` says so in the log instead of reporting an error.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from bot.alerts import TelegramAlertSender
from bot.cards import card_interval, refresh_cards
from bot.context import AttnApplication, AttnContext
from bot.lanes import broadcast_job
from bot.languages import recipient_languages
from bot.metrics import error_kind, metrics_of
from bot.notifier import TelegramNotifier
from bot.timetable_cards import run_timetables
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

# PTB's job callback shape (`JobCallback`): a coroutine function of the context.
Job = Callable[[AttnContext], Coroutine[Any, Any, None]]


def postponed_while_storage_away(what: str, *, counted: bool = False) -> Callable[[Job], Job]:
    """Run the job; when Redis or PostgreSQL is away, log "<what> postponed" and let the
    next tick try again (counted in the error metrics when `counted`)."""

    def decorate(job: Job) -> Job:
        @functools.wraps(job)
        async def run(context: AttnContext) -> None:
            try:
                await job(context)
            except StorageUnavailable as exc:
                if counted:
                    metrics_of(context.application).error(error_kind(exc))
                log.warning("%s postponed: %s", what, exc)

        return run

    return decorate


DELIVERY_JOB = "deliver_summaries_task"
DELIVERING_KEY = "delivering"  # bot_data: a delivery run is in progress in this process


@postponed_while_storage_away("attendance sweep", counted=True)
async def sweep_attendances_task(context: AttnContext) -> None:
    """Persist ended sessions (their summaries leave through `deliver_summaries_task`)."""
    started = time.perf_counter()
    report = await context.services.sweeper.sweep_attendances()
    metrics_of(context.application).sweep(time.perf_counter() - started, report)
    if report.sessions_persisted or report.failures:
        log.info("attendance sweep: %s", report)
    if report.sessions_persisted:
        # Excuses approved in advance for a class just saved go in before its summary is
        # read, so the teacher's summary says "excused" too (the premark job would apply
        # them a tick later, after the summary had gone).
        try:
            await premark_excuses_task(context)
        except Exception:  # the premark job tries again; the summaries must not wait
            log.exception("excuses for the classes just saved not applied yet")
        wake_delivery(context)
        await deliver_webhooks_task(context)


def wake_delivery(context: AttnContext) -> None:
    """Run `deliver_summaries_task` now rather than at its next tick, so a summary leaves as
    soon as its session is persisted. While it is running, its next tick takes the new rows
    (one run at a time per process)."""
    job_queue = context.application.job_queue
    if job_queue is None or context.application.bot_data.get(DELIVERING_KEY):
        return
    for job in job_queue.get_jobs_by_name(DELIVERY_JOB):
        job.job.modify(next_run_time=datetime.now(UTC))


@postponed_while_storage_away("summary delivery", counted=True)
async def deliver_summaries_task(context: AttnContext) -> None:
    """Send the summaries (and nudges) waiting in the outbox.

    A job of its own: a summary can wait behind a burst of replies for Telegram's rate
    limit, and persisting the next ended sessions must not wait with it. Rows that fail are
    postponed or ended (services/delivery.py), never retried at the head of the queue.
    """
    services = context.services
    context.application.bot_data[DELIVERING_KEY] = True
    try:
        notifier = TelegramNotifier(context.bot, context.tz, recipient_languages(context))
        report = await services.sweeper.deliver_outbox(notifier)
        metrics_of(context.application).outbox(report, await services.delivery.outbox_pending())
        # Who blocked the bot or missed a summary, as every process learns it.
        await services.delivery.refresh()
        if report.undeliverable or report.retries:
            log.info(
                "outbox: %d retried, %d undeliverable",
                sum(report.retries.values()),
                sum(report.undeliverable.values()),
            )
    finally:
        context.application.bot_data[DELIVERING_KEY] = False


#: How often due webhook deliveries (retries, and rows a sweep elsewhere saved) are started.
WEBHOOK_TICK_SECONDS = 5.0


@postponed_while_storage_away("webhook deliveries")
async def deliver_webhooks_task(context: AttnContext) -> None:
    """Start the due webhook deliveries of the courses (services/webhooks.py). Each runs on as
    a task of its own, so this job never waits for a receiver, however slow. Then tell the
    owners of the deliveries given up and the hooks that started failing."""
    started = await context.services.webhook_courier.dispatch()
    if started:
        log.debug("webhooks: %d deliveries started", started)
    sender = TelegramAlertSender(context.bot, context.tz, recipient_languages(context))
    await context.services.webhooks.tell_owners(sender)


@postponed_while_storage_away("user sweep")
async def sweep_users_task(context: AttnContext) -> None:
    """Move idle user profiles from Redis to PostgreSQL."""
    moved = await context.services.users.sweep_idle_users()
    if moved:
        log.info("user sweep: %d idle profiles persisted", moved)


@postponed_while_storage_away("code rotation")
async def rotate_codes_task(context: AttnContext) -> None:
    """Give sessions whose code rotation is due a fresh code (the card follows)."""
    rotated = await context.services.rotation.rotate_due_codes()
    if rotated:
        log.debug("rotated the codes of %d sessions", len(rotated))
        await refresh_cards(context, among=set(rotated), wait=card_interval(context))


@postponed_while_storage_away("card refresh")
async def refresh_cards_task(context: AttnContext) -> None:
    """Keep every live card current (see bot/cards.py)."""
    await refresh_cards(context, wait=card_interval(context))


#: How often the timetables are looked at: well within `OPEN_GRACE` (2 minutes), so a class
#: opens within seconds of its time.
TIMETABLE_TICK_SECONDS = 20.0


@postponed_while_storage_away("timetable tick")
async def timetable_task(context: AttnContext) -> None:
    """Remind, open and report the timetables' classes that are due (once across processes)."""
    sent = await run_timetables(context)
    if sent:
        log.info("timetables: %d messages and cards sent", sent)


#: How often absence streaks and due weekly digests are looked for.
WARNINGS_SECONDS = 60.0


@postponed_while_storage_away("early warnings")
async def send_warnings_task(context: AttnContext) -> None:
    """Absence alerts for streaks that reached their course's limit, and the weekly digest
    once it is due: each leaves once across processes (services/warnings.py)."""
    sender = TelegramAlertSender(context.bot, context.tz, recipient_languages(context))
    alerted = await context.services.warnings.send_absence_alerts(sender)
    digests = await context.services.warnings.send_weekly_digests(sender)
    if alerted or digests:
        log.info("early warnings: %d absence streaks alerted, %d digests sent", alerted, digests)


@postponed_while_storage_away("retention job")
async def retention_task(context: AttnContext) -> None:
    """Delete attendance older than the retention period (daily)."""
    deleted = await context.services.privacy.apply_retention()
    if deleted:
        log.info("retention: deleted %d old sessions with their records", deleted)


@postponed_while_storage_away("excuses for coming classes")
async def premark_excuses_task(context: AttnContext) -> None:
    """Approved excuses for coming classes, applied once their session is saved."""
    done = await context.services.excuses.apply_premarks()
    if done:
        log.info("excused %d students in advance", done)


def schedule_jobs(
    application: AttnApplication,
    sweep_seconds: float,
    card_refresh_seconds: float = 5.0,
) -> None:
    """Register the sweeps; one run at a time per process, missed runs coalesced.

    Every job sends in the broadcast lane (bot/lanes.py): what a job sends is the bot's
    own initiative, paced at Telegram's bulk rate, never a reply."""
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    job_kwargs = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    jobs: list[tuple[Callable[[AttnContext], Coroutine[Any, Any, None]], float, float, str]] = [
        (sweep_attendances_task, sweep_seconds, 1.0, "sweep_attendances_task"),
        (deliver_summaries_task, sweep_seconds, 1.5, DELIVERY_JOB),
        (
            deliver_webhooks_task,
            min(sweep_seconds, WEBHOOK_TICK_SECONDS),
            1.8,
            "deliver_webhooks_task",
        ),
        (sweep_users_task, sweep_seconds, 2.0, "sweep_users_task"),
        (timetable_task, TIMETABLE_TICK_SECONDS, 3.0, "timetable_task"),
        (premark_excuses_task, sweep_seconds, 2.5, "premark_excuses_task"),
        (send_warnings_task, WARNINGS_SECONDS, 30.0, "send_warnings_task"),
        (retention_task, 24 * 3600, 60.0, "retention_task"),
        (refresh_cards_task, card_refresh_seconds, card_refresh_seconds, "refresh_cards_task"),
        (rotate_codes_task, 1.0, 1.0, "rotate_codes_task"),
    ]
    for callback, interval, first, name in jobs:
        job_queue.run_repeating(
            broadcast_job(callback),
            interval=interval,
            first=first,
            name=name,
            job_kwargs=job_kwargs,
        )
