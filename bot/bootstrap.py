"""The composition root: the one module that names the concrete stores and builds the services."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from bot.container import Services
from bot.failpoints import failpoint
from bot.logging_setup import secret_forms
from bot.settings import Settings
from bot.webhook_sender import webhook_courier_over
from services.api import IntegrationApi, cursor_key
from services.api_tokens import ApiTokenService
from services.cards import CardService
from services.checkins import CheckInService
from services.clock import Clock, SystemClock
from services.codes import CodeGenerator, random_code
from services.corrections import CorrectionService
from services.courier import OutboxCourier
from services.course_access import CourseAccess
from services.course_admin import CourseAdminService
from services.courses import CourseService
from services.delivery import DeliveryService
from services.excuses import ExcuseService
from services.export import ExportService
from services.grading import GradingService
from services.outbound import OutboundPacer
from services.ports import LiveStores, RecordStores
from services.privacy import PrivacyService
from services.projector import ProjectorService
from services.reports import ReportService
from services.roles import RoleService
from services.roster import RosterService
from services.rotation import CodeRotation
from services.sessions import SessionService
from services.staff import StaffService
from services.sweeps import AttendanceSweeper
from services.timetable_runs import SlotRunner
from services.timetables import TimetableService
from services.users import UserService
from services.warnings import EarlyWarnings
from services.webhook_settings import WebhookService
from storage.postgres import postgres_record_stores
from storage.postgres.migrate import apply_migrations
from storage.postgres.pool import connect_postgres
from storage.redis import redis_live_stores
from storage.redis.client import BlockingRedisCluster, LiveRedis, durability_problems

log = logging.getLogger(__name__)

STARTUP_WAIT_SECONDS = 30.0

__all__ = ["Services", "StorageStartupError", "build_services", "wire_services"]


def make_redis(url: str, max_connections: int, cluster: bool = False) -> LiveRedis:
    """A Redis client whose pool waits for a free connection instead of failing.

    redis-py's default asyncio pool raises at its cap, and python-telegram-bot runs up to 256
    handlers at once, so a blocking pool sized for that concurrency is used. With `cluster`,
    a Redis Cluster client (discovering every node from `url`) with `max_connections` per node,
    whose callers wait the same way.
    """
    if cluster:
        return BlockingRedisCluster.from_url(
            url,
            max_connections=max_connections,
            pool_timeout=10,
            socket_connect_timeout=3,
            socket_timeout=10,
            health_check_interval=30,
        )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=10,
        socket_connect_timeout=3,
        socket_timeout=10,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=2),
    )
    return Redis(connection_pool=pool)


async def migrate(pool: asyncpg.Pool) -> list[int]:
    async with pool.acquire() as conn:
        return await apply_migrations(conn)


async def warn_if_redis_may_lose_data(redis: LiveRedis) -> None:
    """Log a warning when Redis may evict keys or keeps nothing on disk (live check-ins)."""
    try:
        problems = await durability_problems(redis)
    except ResponseError as exc:  # CONFIG is often disabled on managed Redis
        log.info("could not check Redis persistence and eviction settings: %s", exc)
        return
    for problem in problems:
        log.warning("%s", problem)


class StorageStartupError(Exception):
    """Redis or PostgreSQL cannot be reached at start-up; the message is one line to print."""


def _where(url: str) -> str:
    """A server's address for an operator's eyes: host and port, never the password."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "a local socket"
    return f"{host}:{port}" if port else host


def _reason(exc: BaseException, url: str) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for secret in sorted(secret_forms(url), key=len, reverse=True):
        reason = reason.replace(secret, "[redacted]")
    return reason


def _storage_failure(name: str, setting: str, url: str, exc: BaseException) -> StorageStartupError:
    return StorageStartupError(
        f"Cannot connect to {name} at {_where(url)} ({_reason(exc, url)}): check {setting} "
        f"and that {name} is running"
    )


async def build_services(
    settings: Settings,
    redis_url: str,
    database_url: str,
    clock: Clock | None = None,
) -> Services:
    """Connect to Redis and PostgreSQL, apply migrations and build every service.

    Raises:
        StorageStartupError: a server cannot be reached (one line naming it and the setting).
    """
    clock = clock or SystemClock()
    redis = make_redis(redis_url, settings.redis_max_connections, settings.redis_cluster)
    try:
        pool = await connect_postgres(database_url, settings.database_pool_size)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        await redis.aclose()
        raise _storage_failure("PostgreSQL", "ATTN_DATABASE_URL", database_url, exc) from exc
    try:
        await migrate(pool)
        try:
            await redis.ping()
        except RedisError as exc:
            raise _storage_failure("Redis", "ATTN_REDIS_URL", redis_url, exc) from exc
        await warn_if_redis_may_lose_data(redis)
    except BaseException:
        await pool.close()
        await redis.aclose()
        raise
    live = await redis_live_stores(redis)
    records = postgres_record_stores(pool)
    services = wire_services(settings, live, records, clock)
    services.redis = redis
    services.pool = pool
    return services


def wire_services(
    settings: Settings,
    live: LiveStores,
    records: RecordStores,
    clock: Clock,
    *,
    code_generator: CodeGenerator = random_code,
) -> Services:
    """Build every service from the port bundles, each given only the ports it uses.

    No connections: `build_services` adds the clients it opened; tests wire in-memory stores.
    """
    checkpoint = failpoint(settings.failpoint)
    roles = RoleService(
        settings.teacher_ids,
        settings.admin_ids,
        roles=records.roles,
        users=records.users,
        clock=clock,
    )
    access = CourseAccess(courses=records.courses, staff=records.staff, roles=roles)
    sessions = SessionService(
        sessions=live.sessions,
        chat_state=live.chat_state,
        courses=records.courses,
        roles=roles,
        access=access,
        clock=clock,
        default_minutes=settings.session_minutes,
        code_generator=code_generator,
        rotation_seconds=settings.code_rotation_seconds,
        grace_seconds=settings.code_grace_seconds,
        card_refresh_seconds=settings.card_refresh_seconds,
    )
    timetables = TimetableService(
        timetables=records.timetables,
        courses=records.courses,
        access=access,
        clock=clock,
        default_zone=settings.timezone,
    )
    courier = OutboxCourier(
        summaries=records.summaries,
        nudges=records.nudges,
        reachability=records.reachability,
        clock=clock,
        lease_seconds=settings.sweep_lease_seconds,
        checkpoint=checkpoint,
    )
    webhook_courier = webhook_courier_over(
        records, clock, settings.webhook_timeout_seconds, settings.webhook_allow_private
    )
    reports = ReportService(
        attendance=records.attendance,
        courses=records.courses,
        session_records=records.sessions,
        summaries=records.summaries,
        grading=records.grading,
        places=records.places,
        access=access,
        timetables=records.timetables,
        zone=settings.tz,
    )
    corrections = CorrectionService(
        sessions=live.sessions,
        checkins=live.checkins,
        session_records=records.sessions,
        attendance=records.attendance,
        courses=records.courses,
        access=access,
        clock=clock,
    )
    users = UserService(
        profiles=live.profiles,
        chat_state=live.chat_state,
        cards=live.cards,
        users=records.users,
        clock=clock,
        idle_minutes=settings.user_idle_minutes,
    )
    roster = RosterService(
        courses=records.courses,
        places=records.places,
        sessions=live.sessions,
        users=records.users,
        chat_state=live.chat_state,
        access=access,
        clock=clock,
    )
    return Services(
        sessions=sessions,
        checkins=CheckInService(
            sessions=live.sessions,
            checkins=live.checkins,
            profiles=live.profiles,
            users=records.users,
            courses=records.courses,
            lifecycle=sessions,
            clock=clock,
            geo_radius_m=settings.geo_radius_meters,
            visitors=users,
        ),
        cards=CardService(cards=live.cards, clock=clock),
        rotation=CodeRotation(codes=live.codes, clock=clock, code_generator=code_generator),
        users=users,
        roles=roles,
        sweeper=AttendanceSweeper(
            sweeps=live.sweeps,
            profiles=live.profiles,
            session_records=records.sessions,
            users=records.users,
            courier=courier,
            clock=clock,
            lease_seconds=settings.sweep_lease_seconds,
            checkpoint=checkpoint,
        ),
        exports=ExportService(attendance=records.attendance),
        courses=CourseService(
            courses=records.courses,
            users=records.users,
            sessions=live.sessions,
            places=records.places,
            roles=roles,
            access=access,
        ),
        roster=roster,
        course_admin=CourseAdminService(
            courses=records.courses,
            admin=records.course_admin,
            sessions=live.sessions,
            places=records.places,
            roles=roles,
            access=access,
            clock=clock,
        ),
        access=access,
        staff=StaffService(
            access=access, staff=records.staff, courses=records.courses, clock=clock
        ),
        corrections=corrections,
        reports=reports,
        grading=GradingService(grading=records.grading, access=access),
        warnings=EarlyWarnings(
            warnings=records.warnings,
            courses=records.courses,
            grading=records.grading,
            users=records.users,
            reports=reports,
            clock=clock,
            zone=settings.tz,
            lease_seconds=settings.sweep_lease_seconds,
        ),
        privacy=PrivacyService(
            profiles=live.profiles,
            privacy=records.privacy,
            sessions=sessions,
            clock=clock,
            retention_days=settings.retention_days,
        ),
        pacer=OutboundPacer(pacer=live.pacer),
        delivery=DeliveryService(
            summaries=records.summaries,
            reachability=records.reachability,
            clock=clock,
            lease_seconds=settings.sweep_lease_seconds,
        ),
        excuses=ExcuseService(
            excuses=records.excuses,
            courses=records.courses,
            users=records.users,
            sessions=live.sessions,
            checkins=live.checkins,
            corrections=corrections,
            access=access,
            timetables=timetables,
            clock=clock,
        ),
        timetables=timetables,
        timetable_runs=SlotRunner(
            timetables=records.timetables,
            attendance=records.attendance,
            live_sessions=live.sessions,
            courses=records.courses,
            sessions=sessions,
            access=access,
            editor=timetables,
            clock=clock,
        ),
        api_tokens=ApiTokenService(
            access=access, tokens=records.api_tokens, courses=records.courses, clock=clock
        ),
        api=IntegrationApi(
            tokens=records.api_tokens,
            reads=records.api_reads,
            budget=live.api_budget,
            courses=records.courses,
            reports=reports,
            roster=roster,
            clock=clock,
            key=cursor_key(settings.bot_token.get_secret_value()),
            requests_per_minute=settings.api_requests_per_minute,
        ),
        webhooks=WebhookService(
            access=access,
            webhooks=records.webhooks,
            courses=records.courses,
            courier=webhook_courier,
            clock=clock,
            allow_private=settings.webhook_allow_private,
        ),
        webhook_courier=webhook_courier,
        projector=ProjectorService(
            sessions=live.sessions,
            checkins=live.checkins,
            projector=live.projector,
            clock=clock,
            secret=settings.bot_token.get_secret_value().encode(),
            public_url=settings.public_url,
        ),
        live=live,
        records=records,
    )
