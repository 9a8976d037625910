"""Builds the python-telegram-bot Application around already-built services."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, JobQueue
from telegram.request import BaseRequest

from bot.cards import (
    CARD_INTERVAL_KEY,
    MINI_APP_KEY,
    MINI_APP_PAGE,
    MiniAppRoute,
    missing_main_app,
)
from bot.commands import commands_of
from bot.container import Services
from bot.context import SERVICES_KEY, SETTINGS_KEY, AttnApplication, AttnContext
from bot.flood import FloodLimiter
from bot.gate import LIMITER_KEY
from bot.handlers import register_handlers
from bot.jobs import schedule_jobs
from bot.lanes import AnsweringApplication
from bot.menus import set_all_commands
from bot.ratelimit import UpdateLimiter
from bot.settings import Settings
from bot.text import load_locales, set_default_language
from services.errors import StorageUnavailable

log = logging.getLogger(__name__)

ServicesFactory = Callable[[], Awaitable[Services]]


def build_application(
    settings: Settings,
    services_factory: ServicesFactory,
    request: BaseRequest | None = None,
    rate_limiter: bool = True,
    schedule: bool = True,
) -> AttnApplication:
    """The Application with defaults, handlers and jobs; services connect in `post_init`.

    Args:
        settings: the validated settings.
        services_factory: opens the stores and builds the services (called in post_init, so
            nothing connects at import or build time).
        request: a custom Bot API request object (tests pass a recording one).
        rate_limiter: False in in-process tests, where nothing reaches Telegram.
        schedule: False to leave the sweeps to the caller (tests drive them by hand).
    """

    # Translations are read here, so a broken file stops the start, not a reply.
    load_locales()
    set_default_language(settings.default_language)
    flood = FloodLimiter()
    # What the builder makes by default, typed for AttnContext so jobs get one.
    job_queue: JobQueue[AttnContext] = JobQueue()

    async def post_init(application: AttnApplication) -> None:
        services = application.bot_data[SERVICES_KEY] = await services_factory()
        # Telegram's limits count per bot: every process takes its turn from Redis.
        flood.attach(services.pacer.reserve)
        try:
            await set_all_commands(
                application.bot,
                commands_of(application),
                services.access,
                services.users,
                await services.roles.privileged_user_ids(),
            )
        except (TelegramError, StorageUnavailable) as exc:
            log.warning("could not set the command menus (%s); they are a convenience only", exc)
        if warning := missing_main_app(application.bot_data.get(MINI_APP_KEY), application.bot.bot):
            log.warning(warning)
        if schedule:
            schedule_jobs(application, settings.sweep_seconds, settings.card_refresh_seconds)
        log.info("ATTN is up as @%s", application.bot.username)

    async def post_shutdown(application: AttnApplication) -> None:
        services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
        if services is not None:
            await services.close()

    builder = (
        ApplicationBuilder()
        .application_class(AnsweringApplication)  # marks replies (bot/lanes.py)
        .token(settings.bot_token.get_secret_value())
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(ContextTypes(context=AttnContext))
        .job_queue(job_queue)
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_api_url:
        base = settings.telegram_api_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limiter:
        builder = builder.rate_limiter(flood)
    application = builder.build()
    application.bot_data[CARD_INTERVAL_KEY] = settings.card_refresh_seconds
    application.bot_data[SETTINGS_KEY] = settings
    if settings.web_enabled and settings.public_url:
        # The web server serves the Mini App: QR codes and group buttons open it.
        application.bot_data[MINI_APP_KEY] = MiniAppRoute(
            settings.miniapp_short_name, f"{settings.public_url.rstrip('/')}{MINI_APP_PAGE}"
        )
    application.bot_data[LIMITER_KEY] = UpdateLimiter(
        settings.user_rate_per_minute, settings.global_rate_per_second
    )
    register_handlers(application)
    return application
