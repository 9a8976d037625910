"""`attn run`: start the Application (polling or webhook), then stop it within a deadline.

On SIGTERM or SIGINT:

1. no new work is taken: polling stops (the updates already fetched stay in the queue), or the
   webhook server stops accepting connections and answers 503 on open ones, so Telegram keeps
   those updates for the next process; the JobQueue is paused, so no new sweep starts;
2. updates being handled, the replies they send in the background and a sweep in progress get
   up to `DRAIN_SECONDS` to finish (replies leave at Telegram's ~30 a second, so after a big
   burst the last ones may not); then, within the same deadline, the attendance sweep runs once
   more, so a session ended just before the signal is in PostgreSQL when the process is gone
   (an operator's `attn export` right after shows it);
3. whatever is still running then is cancelled: a sweep's PostgreSQL transaction rolls back and
   its Redis lease runs out, so the next process sweeps that session again; a check-in is one
   Lua step, so it is either recorded or not (recorded, in practice: the reply comes after it);
4. the Bot API client and the Redis and PostgreSQL pools are closed.

The whole stop takes less than `SHUTDOWN_SECONDS` (a second signal cuts step 2 short).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.bootstrap import StorageStartupError
from bot.context import SERVICES_KEY
from bot.heap import freeze_startup_heap
from bot.metrics import error_kind, metrics_of
from bot.replying import wait_for_replies
from bot.settings import Settings
from bot.web.server import WebServer
from services.errors import StorageUnavailable

if TYPE_CHECKING:
    from bot.context import AttnApplication

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 10.0
DRAIN_SECONDS = 5.0  # updates in flight and a running sweep; the rest is for closing
CANCEL_SECONDS = 1.0  # for cancelled tasks to unwind
CLOSE_SECONDS = 1.0  # each of: Bot API client, the stores' pools
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


DEFAULT_API_URL = "https://api.telegram.org/bot"


class StartupError(Exception):
    """A start-up problem explained in one line (no traceback needed)."""


class StartupFailed(Exception):
    """`serve` stopped cleanly after a start-up problem; the message is the one line to print.

    Why raised rather than printed here: the caller prints it after the embedded servers
    have stopped too, so it is the last line the operator reads.
    """


def describe_telegram_failure(exc: TelegramError, settings: Settings) -> str:
    """One line for an operator: what Telegram (or the way to it) said, and what to check.

    Why: at start-up the first Bot API call is where a wrong token or a missing network
    shows, and python-telegram-bot reports both as a long chained traceback.
    """
    api = (settings.telegram_api_url or DEFAULT_API_URL).rstrip("/")
    if isinstance(exc, InvalidToken):
        # python-telegram-bot wraps the server's answer ("Unauthorized") in its own.
        said = exc.__cause__ if isinstance(exc.__cause__, InvalidToken) else exc
        status = {"Unauthorized": "401 Unauthorized", "Not Found": "404 Not Found"}.get(
            said.message, "refused"
        )
        hint = "check ATTN_BOT_TOKEN"
        if settings.telegram_api_url and status.startswith("404"):
            hint += " and ATTN_TELEGRAM_API_URL"
        line = f"Telegram rejected the bot token ({status}): {hint}"
    elif isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        line = (
            f"Cannot reach the Telegram Bot API at {api} ({exc.message}): "
            "check the network or ATTN_TELEGRAM_API_URL"
        )
    else:
        line = f"The Telegram Bot API at {api} refused to start the bot: {exc.message}"
    token = settings.bot_token.get_secret_value()
    return line.replace(token, "[redacted]").replace(token.partition(":")[2], "[redacted]")


def web_server_for(application: AttnApplication, settings: Settings) -> WebServer | None:
    """The web server when ATTN_WEBHOOK_URL or ATTN_PUBLIC_URL is set, else None."""
    if not settings.serves_http:
        return None
    return WebServer(application, settings)


async def serve(application: AttnApplication, settings: Settings) -> int:
    """Run until a stop signal; 0 after a clean stop, 1 when start-up failed unexpectedly.

    Raises:
        StartupFailed: after the shutdown, when Telegram refused or could not be reached at
            start-up, or rejected the token later.
    """
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    hurry = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop_requested.is_set():
            log.warning("second %s: stopping without waiting", signal.Signals(signum).name)
            hurry.set()
        else:
            log.info("%s received: stopping", signal.Signals(signum).name)
        stop_requested.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    server = web_server_for(application, settings)
    code = 0
    failure = ""
    waiter = asyncio.create_task(stop_requested.wait())
    try:
        startup = asyncio.create_task(_start(application, settings, server))
        await asyncio.wait({startup, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if startup.done():
            startup.result()
            freeze_startup_heap()
            revoked = _watch_token(application, settings, stop_requested)
            await waiter
            if revoked:
                failure, code = revoked[0], 1
        else:
            log.info("stopped during start-up")
            startup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await startup
    except StartupError as exc:
        failure = f"start-up failed: {exc}"
        code = 1
    except StorageStartupError as exc:
        log.debug("start-up failed", exc_info=exc)
        failure = str(exc)
        code = 1
    except TelegramError as exc:
        # Nothing was reached yet: exit and say why. Once running, polling retries with
        # back-off instead (python-telegram-bot's network loop, up to 30 s apart).
        log.debug("start-up failed", exc_info=exc)
        failure = describe_telegram_failure(exc, settings)
        code = 1
    except Exception:
        log.exception("start-up failed")
        code = 1
    finally:
        waiter.cancel()
        await _shutdown(application, server, loop.time(), hurry)
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    if failure:
        raise StartupFailed(failure)
    return code


# python-telegram-bot's name for the task that polls for updates.
_POLLING_TASK = "Updater:start_polling:polling_task"


def _watch_token(
    application: AttnApplication, settings: Settings, stop_requested: asyncio.Event
) -> list[str]:
    """Stop the process when Telegram rejects the token while polling (revoked at @BotFather).

    Why: python-telegram-bot retries network failures for ever (as it should), but ends its
    polling on a rejected token and leaves the process running deaf. Returns the list that
    receives the one line to print.
    """
    revoked: list[str] = []

    def polling_ended(task: asyncio.Task[None]) -> None:
        if task.cancelled() or not isinstance(task.exception(), InvalidToken):
            return
        exc = task.exception()
        assert isinstance(exc, InvalidToken)
        revoked.append(describe_telegram_failure(exc, settings))
        stop_requested.set()

    for task in asyncio.all_tasks():
        if task.get_name() == _POLLING_TASK:
            task.add_done_callback(polling_ended)
    return revoked


async def _start(
    application: AttnApplication, settings: Settings, server: WebServer | None
) -> None:
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)  # connects the stores, schedules the sweeps
    await application.start()
    if server is not None:
        try:
            await server.start()
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {server.host}:{server.port} ({exc.strerror or exc}): "
                "check ATTN_LISTEN_HOST and ATTN_LISTEN_PORT"
            ) from None
    if not settings.webhook_url:
        assert application.updater is not None

        def on_polling_error(exc: TelegramError) -> None:  # must not raise
            metrics_of(application).error(error_kind(exc))
            log.warning("polling for updates failed (will retry): %s", exc)

        # Every update type, `my_chat_member` included: that is how the bot learns who
        # blocked it (services/delivery.py).
        await application.updater.start_polling(
            drop_pending_updates=False,
            error_callback=on_polling_error,
            allowed_updates=Update.ALL_TYPES,
        )
        if server is not None:
            log.info("polling for updates; web server on %s:%d", server.host, server.port)
        else:
            log.info("polling for updates")
        return
    assert server is not None and settings.webhook_secret is not None
    try:
        await application.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    except TelegramError as exc:
        raise StartupError(f"Telegram did not accept the webhook URL: {exc}") from None
    log.info("webhook registered; serving it on %s:%d", server.host, server.port)


async def _shutdown(
    application: AttnApplication, server: WebServer | None, began: float, hurry: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    drain_until = began + DRAIN_SECONDS

    def left() -> float:
        return 0.0 if hurry.is_set() else max(0.0, drain_until - loop.time())

    # 1. Take no new work.
    job_queue = application.job_queue
    if job_queue is not None and job_queue.scheduler.running:
        job_queue.scheduler.pause()
    if server is not None:
        server.stop_accepting()
    updater = application.updater
    if updater is not None and updater.running:
        await _bounded(updater.stop(), left(), hurry, "stopping the polling")

    # 2. Let what is running finish.
    finished = True
    if server is not None and server.in_flight:
        log.info("waiting for %d webhook update(s) in flight", server.in_flight)
        finished = await _bounded(server.idle(), left(), hurry, "webhook updates")
    if application.running:
        # Handles the updates already fetched, then waits for a running sweep.
        finished &= await _bounded(application.stop(), left(), hurry, "updates and jobs")
    if finished:
        # Replies the handlers left to send in the background.
        replies = wait_for_replies(application.bot_data)
        finished = await _bounded(replies, left(), hurry, "replies")
    # Sessions that ended before the signal go to PostgreSQL now, not at the next start.
    await _bounded(_persist_ended_sessions(application), left(), hurry, "the last sweep")

    # 3. Cancel what did not finish in time.
    if server is not None:
        await _bounded(server.close(), CLOSE_SECONDS, None, "closing HTTP connections")
    if not finished:
        # APScheduler logs a cancelled job as an ERROR with a traceback; the warning above
        # already says what happened.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.CRITICAL)
    await _cancel_the_rest(warn=not finished)
    if job_queue is not None and job_queue.scheduler.running:
        job_queue.scheduler.shutdown(wait=False)

    # 4. Close the connections.
    await _bounded(application.shutdown(), CLOSE_SECONDS, None, "closing the Bot API client")
    services = application.bot_data.get(SERVICES_KEY)
    if application.post_shutdown is not None:
        finished = await _bounded(
            application.post_shutdown(application), CLOSE_SECONDS, None, "closing the pools"
        )
        if not finished and services is not None:
            services.pool.terminate()
    log.info("stopped in %.1f s", loop.time() - began)


async def _persist_ended_sessions(application: AttnApplication) -> None:
    """Run the attendance sweep until no ended session is left (or PostgreSQL is away).

    Why: the regular sweep runs every ATTN_SWEEP_SECONDS; without this a session ended just
    before a stop stays in Redis until the next start, and an export in between misses it.
    Safe next to other processes: each session is claimed with a lease.
    """
    services = application.bot_data.get(SERVICES_KEY)
    if services is None:
        return
    while True:
        try:
            report = await services.sweeper.sweep_attendances()
        except StorageUnavailable as exc:
            log.warning("ended sessions stay in Redis until the next start: %s", exc)
            return
        if report.sessions_persisted:
            log.info("persisted %d ended session(s) before stopping", report.sessions_persisted)
        if not report.sessions_persisted or report.failures:
            return


async def _bounded(
    work: Awaitable[object], seconds: float, hurry: asyncio.Event | None, what: str
) -> bool:
    """Await `work` for at most `seconds` (less if `hurry` is set); False when cut short."""
    task = asyncio.ensure_future(work)
    waiters: set[asyncio.Future[object]] = {task}
    if hurry is not None:
        waiters.add(asyncio.ensure_future(hurry.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters - {task}:
            waiter.cancel()
    if task.done():
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed", what, exc_info=task.exception())
        return True
    log.warning("%s did not finish in time; cancelling", what)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, CANCEL_SECONDS)
    return False


async def _cancel_the_rest(warn: bool) -> None:
    """Cancel every task still running (updates, a sweep) and let them unwind briefly."""
    current = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    if not rest:
        return
    log.log(logging.WARNING if warn else logging.DEBUG, "cancelling %d task(s)", len(rest))
    for task in rest:
        task.cancel()
    await asyncio.wait(rest, timeout=CANCEL_SECONDS)
