"""The `attn` command line: run, migrate, export, healthcheck, check-config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from bot.logging_setup import configure_logging
from bot.settings import Settings, describe_settings_error

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger("attn")

T = TypeVar("T")


@dataclass(frozen=True)
class StorageUrls:
    redis: str
    database: str


@contextmanager
def storage_urls(settings: Settings) -> Iterator[StorageUrls]:
    """The configured URLs, or those of embedded servers started (and stopped) here."""
    from storage.embedded import start_embedded_postgres, start_embedded_redis

    stoppers = []
    try:
        if settings.redis_url is not None:
            redis_url = settings.redis_url.get_secret_value()
        else:
            embedded_redis = start_embedded_redis(settings.data_dir)
            stoppers.append(embedded_redis.stop)
            redis_url = embedded_redis.url
            log.info("started embedded Redis under %s", settings.data_dir)
        if settings.database_url is not None:
            database_url = settings.database_url.get_secret_value()
        else:
            embedded_pg = start_embedded_postgres(settings.data_dir)
            stoppers.append(embedded_pg.stop)
            database_url = embedded_pg.url
            log.info("started embedded PostgreSQL under %s", settings.data_dir)
        yield StorageUrls(redis_url, database_url)
    finally:
        for stop in reversed(stoppers):
            stop()


def load_settings() -> Settings:
    """Settings from the environment, or exit with one clear line per problem."""
    try:
        return Settings()
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        raise SystemExit(2) from None


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret: the log handler redacts each of them, whatever its length."""
    return settings.secret_values()


def run_command(settings: Settings) -> int:
    from bot.app import build_application
    from bot.bootstrap import build_services
    from bot.runner import StartupFailed, serve

    try:
        with storage_urls(settings) as urls:

            async def services_factory() -> Services:
                return await build_services(settings, urls.redis, urls.database)

            application = build_application(settings, services_factory)
            # Long polling, or the webhook server when ATTN_WEBHOOK_URL is set; stops on
            # SIGTERM.
            code = asyncio.run(serve(application, settings))
    except StartupFailed as failure:
        # One line naming the cause and what to check, after everything has stopped.
        print(failure, file=sys.stderr, flush=True)
        return 1
    return code


async def _with_services(
    settings: Settings, urls: StorageUrls, action: Callable[[Services], Awaitable[T]]
) -> T:
    from bot.bootstrap import build_services

    services = await build_services(settings, urls.redis, urls.database)
    try:
        return await action(services)
    finally:
        await services.close()


def migrate_command(settings: Settings) -> int:
    from bot.bootstrap import migrate
    from storage.postgres.pool import connect_postgres

    async def go() -> list[int]:
        with storage_urls(settings) as urls:
            pool = await connect_postgres(urls.database, 2)
            try:
                return await migrate(pool)
            finally:
                await pool.close()

    applied = asyncio.run(go())
    print(f"applied migrations: {applied}" if applied else "database schema is up to date")
    return 0


def export_pending_note(count: int) -> str:
    """The operator's warning that an export misses sessions still only in Redis."""
    sessions = "1 ended session is" if count == 1 else f"{count} ended sessions are"
    them = "it" if count == 1 else "them"
    return (
        f"note: {sessions} still waiting in Redis and {'is' if count == 1 else 'are'} not in "
        f"this export yet; `attn run` saves {them} to PostgreSQL within ATTN_SWEEP_SECONDS "
        "of starting"
    )


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    """Records as CSV (--session/--all), or a course report as CSV or XLSX (--course)."""
    from bot.replies.files import export_header, gradebook_header, report_labels
    from bot.replies.format import zone_of
    from bot.text.catalogs import SOURCE_LANGUAGE
    from services.export import rows_to_csv
    from services.report_files import gradebook_csv, report_csv, report_xlsx

    async def go() -> tuple[bytes | None, int]:
        with storage_urls(settings) as urls:

            async def action(services: Services) -> tuple[bytes | None, int]:
                # Ended sessions reach PostgreSQL at the bot's next sweep: say so, or the
                # export looks complete while it is not.
                pending = await services.sweeper.ended_sessions_waiting()
                if args.course is not None:
                    course = await services.reports.course_by_id(args.course)
                    if course is None:
                        return None, pending
                    report = await services.reports.report_for(course)
                    if args.format == "gradebook":
                        return gradebook_csv(report, gradebook_header()), pending
                    data = (
                        report_xlsx(
                            report,
                            report_labels(settings.default_language),
                            zone_of(course.time_zone, settings.tz),
                        )
                        if args.format == "xlsx"
                        else report_csv(report, report_labels(settings.default_language))
                    )
                    return data, pending
                if args.all:
                    rows = await services.exports.all_rows()
                else:
                    rows = await services.exports.session_rows(args.session)
                # Column names scripts read: English, whatever ATTN_DEFAULT_LANGUAGE is.
                header = export_header(SOURCE_LANGUAGE)
                return rows_to_csv(rows, settings.tz, header).encode("utf-8"), pending

            result: tuple[bytes | None, int] = await _with_services(settings, urls, action)
            return result

    data, pending = asyncio.run(go())
    if pending:
        print(export_pending_note(pending), file=sys.stderr)
    if data is None:
        print(f"no course with id {args.course}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "wb") as out:
            out.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def healthcheck_command(settings: Settings) -> int:
    from bot.bootstrap import make_redis
    from storage.postgres.pool import connect_postgres

    if settings.redis_url is None or settings.database_url is None:
        print("healthcheck needs ATTN_REDIS_URL and ATTN_DATABASE_URL", file=sys.stderr)
        return 2

    async def go() -> list[str]:
        problems = []
        assert settings.redis_url is not None and settings.database_url is not None
        redis = make_redis(settings.redis_url.get_secret_value(), 2, settings.redis_cluster)
        try:
            await asyncio.wait_for(redis.ping(), 5)
        except Exception as exc:
            problems.append(f"Redis: {type(exc).__name__}")
        finally:
            await redis.aclose()
        try:
            pool = await connect_postgres(settings.database_url.get_secret_value(), 1, wait=0)
            try:
                await pool.fetchval("SELECT 1")
            finally:
                await pool.close()
        except Exception as exc:
            problems.append(f"PostgreSQL: {type(exc).__name__}")
        return problems

    problems = asyncio.run(go())
    if problems:
        print("not ready: " + ", ".join(problems))
        return 1
    print("ready")
    return 0


def check_config_command(settings: Settings) -> int:
    from bot.settings import MAKE_A_SECRET

    print("configuration OK")
    print(f"  Redis:      {'configured' if settings.redis_url else 'embedded'}")
    print(f"  PostgreSQL: {'configured' if settings.database_url else 'embedded'}")
    print(f"  data dir:   {settings.data_dir}")
    print(f"  teachers:   {len(settings.teacher_ids)}, admins: {len(settings.admin_ids)}")
    print(f"  time zone:  {settings.timezone}")
    if settings.webhook_url:
        print(f"  updates:    webhook, served on {settings.listen_host}:{settings.listen_port}")
    else:
        print("  updates:    long polling")
        print(f"  (a webhook needs ATTN_WEBHOOK_SECRET; make one with: {MAKE_A_SECRET})")
    if settings.public_url:
        where = f"served on {settings.listen_host}:{settings.listen_port}"
        print(f"  web:        {settings.public_url} ({where})")
    else:
        print("  web:        off (set ATTN_PUBLIC_URL for the projector page and the Mini App)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="attn", description="ATTN, the attendance bot")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot")
    sub.add_parser("migrate", help="apply database migrations")
    export = sub.add_parser("export", help="print attendance records as CSV")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--session", help="one session's id")
    which.add_argument("--all", action="store_true", help="every session")
    which.add_argument("--course", type=int, help="a course's per-student report")
    export.add_argument(
        "--format",
        choices=["csv", "xlsx", "gradebook"],
        default="csv",
        help="with --course: file format (gradebook: student number, name, grade)",
    )
    export.add_argument("--output", help="write to this file instead of standard output")
    sub.add_parser("healthcheck", help="exit 0 when Redis and PostgreSQL answer")
    sub.add_parser("check-config", help="validate the settings and show a summary")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level, secrets_of(settings))
    from bot.bootstrap import StorageStartupError
    from storage.embedded import EmbeddedServerError

    try:
        if args.command == "run":
            return run_command(settings)
        if args.command == "migrate":
            return migrate_command(settings)
        if args.command == "export":
            return export_command(settings, args)
        if args.command == "healthcheck":
            return healthcheck_command(settings)
        return check_config_command(settings)
    except (EmbeddedServerError, StorageStartupError) as exc:
        # A setting to change, not a bug: one line, no traceback.
        print(exc, file=sys.stderr)
        return 1
    except Exception:
        # Through the log handler, so the traceback's text is redacted like every log line.
        log.exception("attn %s failed", args.command)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
