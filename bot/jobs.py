"""JobQueue callbacks: thin wrappers that call the services."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import InputFile, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bot.card import CardView, qr_png, render_card
from bot.context import AttnContext
from bot.metrics import error_kind, metrics_of
from bot.notifier import TelegramNotifier
from services.errors import StorageUnavailable
from services.models import CardState, Session
from services.qr import checkin_link

log = logging.getLogger(__name__)

DELIVERY_JOB = "deliver_summaries_task"
DELIVERING_KEY = "delivering"  # bot_data: a delivery run is in progress in this process


async def sweep_attendances_task(context: AttnContext) -> None:
    """Persist ended sessions (their summaries leave through `deliver_summaries_task`)."""
    services = context.services
    metrics = metrics_of(context.application)
    try:
        started = time.perf_counter()
        report = await services.sweeper.sweep_attendances()
        metrics.sweep(time.perf_counter() - started, report)
        if report.sessions_persisted or report.failures:
            log.info("attendance sweep: %s", report)
        if report.sessions_persisted:
            wake_delivery(context)
    except StorageUnavailable as exc:
        metrics.error(error_kind(exc))
        log.warning("attendance sweep postponed: %s", exc)


def wake_delivery(context: AttnContext) -> None:
    """Run `deliver_summaries_task` now rather than at its next tick, so a summary leaves as
    soon as its session is persisted. While it is running, its next tick takes the new rows
    (one run at a time per process)."""
    job_queue = context.application.job_queue
    if job_queue is None or context.application.bot_data.get(DELIVERING_KEY):
        return
    for job in job_queue.get_jobs_by_name(DELIVERY_JOB):
        job.job.modify(next_run_time=datetime.now(UTC))


async def deliver_summaries_task(context: AttnContext) -> None:
    """Send the summaries (and nudges) waiting in the outbox.

    A job of its own: a summary can wait behind a burst of replies for Telegram's rate
    limit, and persisting the next ended sessions must not wait with it. Rows that fail are
    postponed or ended (services/delivery.py), never retried at the head of the queue.
    """
    services = context.services
    metrics = metrics_of(context.application)
    context.application.bot_data[DELIVERING_KEY] = True
    try:
        notifier = TelegramNotifier(context.bot, context.tz)
        report = await services.sweeper.deliver_outbox(notifier)
        metrics.outbox(report, await services.delivery.outbox_pending())
        # Who blocked the bot or missed a summary, as every process learns it.
        await services.delivery.refresh()
        if report.undeliverable or report.retries:
            log.info(
                "outbox: %d retried, %d undeliverable",
                sum(report.retries.values()),
                sum(report.undeliverable.values()),
            )
    except StorageUnavailable as exc:
        metrics.error(error_kind(exc))
        log.warning("summary delivery postponed: %s", exc)
    finally:
        context.application.bot_data[DELIVERING_KEY] = False


async def sweep_users_task(context: AttnContext) -> None:
    """Move idle user profiles from Redis to PostgreSQL."""
    try:
        moved = await context.services.users.sweep_idle_users()
        if moved:
            log.info("user sweep: %d idle profiles persisted", moved)
    except StorageUnavailable as exc:
        log.warning("user sweep postponed: %s", exc)


async def rotate_codes_task(context: AttnContext) -> None:
    """Give sessions whose code rotation is due a fresh code (the card follows)."""
    try:
        rotated = await context.services.rotation.rotate_due_codes()
        if rotated:
            log.debug("rotated the codes of %d sessions", len(rotated))
            interval = float(context.application.bot_data.get(CARD_INTERVAL_KEY, 5.0))
            await refresh_cards(context, among=set(rotated), wait=interval)
    except StorageUnavailable as exc:
        log.warning("code rotation postponed: %s", exc)


CARD_INTERVAL_KEY = "card_refresh_seconds"
CARD_EDIT_CONCURRENCY = 8
"""Card edits one refresh has under way at once. Each is in its own chat, so none waits
behind another chat's flood pacing; bounded so a thousand live cards do not open a thousand
requests at once (the flood limiter spaces them anyway)."""
CARD_EDITS_KEY = "card_edits_under_way"  # bot_data: edits the refresh job left running
_CARD_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "group chat was upgraded",
    "have no rights",
    "not enough rights",
)
"""Parts of a 400 that mean the card will never be editable again in this session."""

CardEdit = Callable[[bool], Awaitable[Any]]


async def refresh_cards(
    context: AttnContext,
    only: str | None = None,
    among: Collection[str] | None = None,
    wait: float | None = None,
) -> int:
    """Edit every live card whose content changed, at most once per refresh interval each
    (a new code at once); `only` one session, or those `among` a few. How many were edited.

    The check-and-claim is one Redis step per card, so with several processes one card is
    edited by one of them at a time. The QR image is replaced only when the code changed.
    A group session has two cards (the group's, and the teacher's private code card that is
    projected): each is edited, refused and let go on its own. Cards of different chats are
    edited concurrently, so one chat's queue (a group's flood pacing, a flood wait) never
    holds up another class's card; Telegram's refusal of one edit never stops the others.
    With `wait`, edits still under way after that many seconds (a card waiting for its
    group's turn, a flood wait) finish in the background: the periodic job (one run at a
    time) then keeps every other card fresh meanwhile.
    """
    services = context.services
    interval = float(context.application.bot_data.get(CARD_INTERVAL_KEY, 5.0))
    now = services.cards.now()
    edits: list[Callable[[], Awaitable[int]]] = []
    for state in await services.cards.card_states():
        session = state.session
        if (only is not None and session.id != only) or (
            among is not None and session.id not in among
        ):
            continue
        if (
            state.code_card_live
            and session.code_card_chat_id is not None
            and session.code_card_message_id is not None
        ):
            edits.append(functools.partial(refresh_code_card, context, state, now, interval))
        if (
            state.card_live
            and session.card_chat_id is not None
            and session.card_message_id is not None
        ):
            edits.append(functools.partial(refresh_session_card, context, state, now, interval))
    if not edits:
        return 0
    if len(edits) == 1 and wait is None:
        return await edits[0]()
    gate = asyncio.Semaphore(CARD_EDIT_CONCURRENCY)

    async def gated(edit: Callable[[], Awaitable[int]]) -> int:
        async with gate:
            return await edit()

    if wait is None:
        results = await asyncio.gather(*(gated(edit) for edit in edits), return_exceptions=True)
    else:
        under_way: set[asyncio.Task[int]] = context.application.bot_data.setdefault(
            CARD_EDITS_KEY, set()
        )
        tasks = [asyncio.create_task(gated(edit)) for edit in edits]
        for task in tasks:
            under_way.add(task)
            task.add_done_callback(functools.partial(_card_edit_finished, under_way))
        await asyncio.wait(tasks, timeout=wait)
        results = [
            (task.exception() or task.result()) if task.done() and not task.cancelled() else 0
            for task in tasks
        ]
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures[1:]:
        log.warning("card refresh: %s", failure, exc_info=failure)
    if failures:
        raise failures[0]  # StorageUnavailable: the job postpones; a bug: it is reported
    return sum(r for r in results if isinstance(r, int))


def _card_edit_finished(under_way: set[asyncio.Task[int]], task: asyncio.Task[int]) -> None:
    """A card edit the refresh job stopped waiting for ended: forget it, and say why it
    failed if it did (nobody awaits it any more)."""
    under_way.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("card edit: %s", task.exception())


def qr_photo(context: AttnContext, session: Session, view: CardView) -> InputMediaPhoto:
    """The card's new photo: the QR of the current check-in link, uploaded as attach://
    (an InputFile without attach=True leaves InputMedia with no "media" field, and Telegram
    answers "Can't parse InputMedia: media not found": the QR froze)."""
    link = checkin_link(context.bot.username, session.id, session.code)
    return InputMediaPhoto(
        InputFile(qr_png(link), filename="checkin.png", attach=True),
        caption=view.text,
        parse_mode=ParseMode.HTML,
    )


async def refresh_session_card(
    context: AttnContext, state: CardState, now: datetime, interval: float
) -> int:
    """Keep the session's card (a QR photo privately, a text message in a group) current.
    1 when it was edited."""
    session = state.session
    chat_id, message_id = session.card_chat_id, session.card_message_id
    assert chat_id is not None and message_id is not None
    in_group = chat_id < 0
    view = render_card(state, now, context.tz, context.bot.username, in_group)

    async def edit(new_code: bool) -> None:
        if in_group:
            await context.bot.edit_message_text(
                view.text, chat_id=chat_id, message_id=message_id, reply_markup=view.keyboard
            )
        elif new_code:
            await context.bot.edit_message_media(
                qr_photo(context, session, view),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=view.keyboard,
            )
        else:
            await context.bot.edit_message_caption(
                chat_id=chat_id,
                message_id=message_id,
                caption=view.text,
                reply_markup=view.keyboard,
            )

    return await edit_card(context, session.id, "card", view, interval, edit)


async def refresh_code_card(
    context: AttnContext, state: CardState, now: datetime, interval: float
) -> int:
    """Keep a group session's private code card (QR, code, buttons) as fresh as the group's
    card: the teacher projects it, so a rotated code must reach it. 1 when it was edited."""
    session = state.session
    chat_id, message_id = session.code_card_chat_id, session.code_card_message_id
    assert chat_id is not None and message_id is not None
    view = render_card(state, now, context.tz, context.bot.username, False)

    async def edit(new_code: bool) -> None:
        if new_code:
            await context.bot.edit_message_media(
                qr_photo(context, session, view),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=view.keyboard,
            )
        else:
            await context.bot.edit_message_caption(
                chat_id=chat_id,
                message_id=message_id,
                caption=view.text,
                reply_markup=view.keyboard,
            )

    return await edit_card(context, session.id, "code_card", view, interval, edit)


async def edit_card(
    context: AttnContext,
    session_id: str,
    card: str,
    view: CardView,
    interval: float,
    edit: CardEdit,
) -> int:
    """Claim the edit of one card ("card" or "code_card"), make it, and act on Telegram's
    answer: the final state or a card that can never be edited again (deleted; the bot
    removed from the group or blocked by the teacher: 403) lets that card go; any other
    refusal (a 429 flood wait, a network error) gives the claim back, so a later refresh
    shows what the card should show. 1 when the card was edited."""
    cards = context.services.cards
    pace = 0.0 if view.final else interval  # the final state is shown at once
    previous = await cards.may_edit_card(session_id, view.fingerprint, pace, card=card)
    if previous is None:
        return 0
    name = "card" if card == "card" else "code card"
    try:
        await edit(bool(view.code) and previous.split(":", 1)[0] != view.code)
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        log.warning("flood wait on the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(
            session_id, previous, card=card, claimed=view.fingerprint, retry_after=seconds
        )
        return 0
    except (Forbidden, ChatMigrated) as exc:  # removed from the group, blocked by the teacher
        log.info("the %s of session %s is out of reach: %s", name, session_id, exc)
        await cards.card_done(session_id, card)
        return 0
    except BadRequest as exc:
        reason = exc.message.lower()
        if "not modified" in reason:  # it shows this already
            if view.final:
                await cards.card_done(session_id, card)
            return 0
        if any(marker in reason for marker in _CARD_GONE):
            log.info("the %s of session %s is gone: %s", name, session_id, exc)
            await cards.card_done(session_id, card)
            return 0
        log.warning("could not edit the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(session_id, previous, card=card, claimed=view.fingerprint)
        return 0
    except TelegramError as exc:  # network, time-out, 5xx: try again at a later refresh
        log.warning("could not edit the %s of session %s: %s", name, session_id, exc)
        await cards.card_edit_failed(session_id, previous, card=card, claimed=view.fingerprint)
        return 0
    if view.final:
        await cards.card_done(session_id, card)
    return 1


async def refresh_cards_task(context: AttnContext) -> None:
    interval = float(context.application.bot_data.get(CARD_INTERVAL_KEY, 5.0))
    try:
        await refresh_cards(context, wait=interval)
    except StorageUnavailable as exc:
        log.warning("card refresh postponed: %s", exc)


async def retention_task(context: AttnContext) -> None:
    """Delete attendance older than the retention period (daily)."""
    try:
        deleted = await context.services.privacy.apply_retention()
        if deleted:
            log.info("retention: deleted %d old sessions with their records", deleted)
    except StorageUnavailable as exc:
        log.warning("retention job postponed: %s", exc)


def schedule_jobs(
    application: Application[Any, Any, Any, Any, Any, Any],
    sweep_seconds: float,
    card_refresh_seconds: float = 5.0,
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
        deliver_summaries_task,
        interval=sweep_seconds,
        first=1.5,
        name=DELIVERY_JOB,
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
        refresh_cards_task,
        interval=card_refresh_seconds,
        first=card_refresh_seconds,
        name="refresh_cards_task",
        job_kwargs=job_kwargs,
    )
    job_queue.run_repeating(
        rotate_codes_task,
        interval=1.0,
        first=1.0,
        name="rotate_codes_task",
        job_kwargs=job_kwargs,
    )
