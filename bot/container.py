"""What the handlers and jobs reach: every service, the port bundles behind them, and the
clients to close at shutdown. Built by `bot.bootstrap.wire_services`."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from services.api import IntegrationApi
from services.api_tokens import ApiTokenService
from services.cards import CardService
from services.checkins import CheckInService
from services.corrections import CorrectionService
from services.course_access import CourseAccess
from services.course_admin import CourseAdminService
from services.courses import CourseService
from services.delivery import DeliveryService
from services.excuses import ExcuseService
from services.export import ExportService
from services.grading import GradingService
from services.health import READY_TIMEOUT_SECONDS, Pingable, readiness
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
from services.webhooks import WebhookCourier

# `storage.redis_client.LiveRedis`, spelled out: only the composition root imports storage.
LiveRedis: TypeAlias = Redis | RedisCluster


class _RedisPing:
    """Readiness of the Redis client itself (the live ports have no health method)."""

    def __init__(self, redis: LiveRedis) -> None:
        self._redis = redis

    async def ping(self) -> None:
        await self._redis.ping()


class _PostgresPing:
    """Readiness of the PostgreSQL pool: it answers `SELECT 1`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")


@dataclass
class Services:
    """Everything the handlers and jobs call, plus the stores' clients for closing them.

    `redis` and `pool` are None when the services run on stores that need no connection
    (in-memory fakes)."""

    sessions: SessionService
    checkins: CheckInService
    cards: CardService
    rotation: CodeRotation
    users: UserService
    roles: RoleService
    sweeper: AttendanceSweeper
    exports: ExportService
    courses: CourseService
    course_admin: CourseAdminService
    roster: RosterService
    access: CourseAccess
    staff: StaffService
    corrections: CorrectionService
    reports: ReportService
    grading: GradingService
    warnings: EarlyWarnings
    privacy: PrivacyService
    pacer: OutboundPacer
    delivery: DeliveryService
    excuses: ExcuseService
    timetables: TimetableService
    timetable_runs: SlotRunner
    api_tokens: ApiTokenService
    api: IntegrationApi
    webhooks: WebhookService
    webhook_courier: WebhookCourier
    projector: ProjectorService
    live: LiveStores
    records: RecordStores
    redis: LiveRedis | None = None
    pool: asyncpg.Pool | None = None

    async def close(self) -> None:
        await self.projector.feed.close()
        await self.webhook_courier.close()
        with contextlib.suppress(Exception):  # best effort: the cache refills on next use
            await asyncio.wait_for(self.users.settle(), 2.0)
        if self.pool is not None:
            await self.pool.close()
        if self.redis is not None:
            await self.redis.aclose()
            if isinstance(self.redis, Redis):
                await self.redis.connection_pool.disconnect()

    async def ready(self, seconds: float = READY_TIMEOUT_SECONDS) -> dict[str, bool]:
        """{"redis": ..., "postgresql": ...}: True for each that answered within `seconds`."""
        checks: dict[str, Pingable] = {}
        if self.redis is not None:
            checks["redis"] = _RedisPing(self.redis)
        if self.pool is not None:
            checks["postgresql"] = _PostgresPing(self.pool)
        return await readiness(checks, seconds)
