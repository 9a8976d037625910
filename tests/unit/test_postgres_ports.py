"""The PostgreSQL stores against the narrow record ports (issue 11).

`_ports_are_satisfied` is checked by mypy (the last test runs it on this file), so a store that
drifts from its port fails here; the other tests need no server.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from services.health import Pingable
from services.ports import (
    ApiReadRecords,
    ApiTokenRecords,
    AttendanceRecords,
    CourseAdmin,
    CourseRecords,
    CourseStaffRecords,
    ExcuseRecords,
    GradingRecords,
    NudgeOutbox,
    PrivacyRecords,
    Reachability,
    RecordStores,
    RoleRecords,
    RosterPlaces,
    SessionRecords,
    SummaryOutbox,
    TimetableRecords,
    UserRecords,
    WarningRecords,
    WebhookRecords,
)
from storage.postgres import (
    PostgresAttendanceRecords,
    PostgresCourseAdmin,
    PostgresCourseRecords,
    PostgresCourseStaff,
    PostgresExcuseRecords,
    PostgresGradingRecords,
    PostgresNudgeOutbox,
    PostgresPrivacyRecords,
    PostgresReachability,
    PostgresRoleRecords,
    PostgresRosterPlaces,
    PostgresSessionRecords,
    PostgresSummaryOutbox,
    PostgresTimetableRecords,
    PostgresUserRecords,
    PostgresWarningRecords,
    postgres_record_stores,
)
from storage.postgres.api import PostgresApiReads, PostgresApiTokens
from storage.postgres.health import PostgresPing
from storage.postgres.webhooks import PostgresWebhooks

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "storage" / "postgres"

# Each field of the bundle: the port it names and the class that implements it here.
IMPLEMENTATIONS: dict[str, tuple[type, type]] = {
    "sessions": (SessionRecords, PostgresSessionRecords),
    "attendance": (AttendanceRecords, PostgresAttendanceRecords),
    "courses": (CourseRecords, PostgresCourseRecords),
    "course_admin": (CourseAdmin, PostgresCourseAdmin),
    "summaries": (SummaryOutbox, PostgresSummaryOutbox),
    "nudges": (NudgeOutbox, PostgresNudgeOutbox),
    "reachability": (Reachability, PostgresReachability),
    "users": (UserRecords, PostgresUserRecords),
    "roles": (RoleRecords, PostgresRoleRecords),
    "privacy": (PrivacyRecords, PostgresPrivacyRecords),
    "excuses": (ExcuseRecords, PostgresExcuseRecords),
    "grading": (GradingRecords, PostgresGradingRecords),
    "warnings": (WarningRecords, PostgresWarningRecords),
    "places": (RosterPlaces, PostgresRosterPlaces),
    "timetables": (TimetableRecords, PostgresTimetableRecords),
    "staff": (CourseStaffRecords, PostgresCourseStaff),
    "api_tokens": (ApiTokenRecords, PostgresApiTokens),
    "api_reads": (ApiReadRecords, PostgresApiReads),
    "webhooks": (WebhookRecords, PostgresWebhooks),
}


def _ports_are_satisfied(pool: asyncpg.Pool) -> None:
    """Never called: mypy checks that each store is assignable to its port."""
    _sessions: SessionRecords = PostgresSessionRecords(pool)
    _attendance: AttendanceRecords = PostgresAttendanceRecords(pool)
    _courses: CourseRecords = PostgresCourseRecords(pool)
    _course_admin: CourseAdmin = PostgresCourseAdmin(pool)
    _summaries: SummaryOutbox = PostgresSummaryOutbox(pool)
    _nudges: NudgeOutbox = PostgresNudgeOutbox(pool)
    _reachability: Reachability = PostgresReachability(pool)
    _users: UserRecords = PostgresUserRecords(pool)
    _roles: RoleRecords = PostgresRoleRecords(pool)
    _privacy: PrivacyRecords = PostgresPrivacyRecords(pool)
    _excuses: ExcuseRecords = PostgresExcuseRecords(pool)
    _grading: GradingRecords = PostgresGradingRecords(pool)
    _warnings: WarningRecords = PostgresWarningRecords(pool)
    _places: RosterPlaces = PostgresRosterPlaces(pool)
    _timetables: TimetableRecords = PostgresTimetableRecords(pool)
    _staff: CourseStaffRecords = PostgresCourseStaff(pool)
    _api_tokens: ApiTokenRecords = PostgresApiTokens(pool)
    _api_reads: ApiReadRecords = PostgresApiReads(pool)
    _webhooks: WebhookRecords = PostgresWebhooks(pool)
    _ping: Pingable = PostgresPing(pool)


def _port_methods(port: type) -> list[str]:
    return [name for name in vars(port) if not name.startswith("_") and callable(vars(port)[name])]


def test_the_bundle_covers_every_record_port() -> None:
    assert set(IMPLEMENTATIONS) == {field.name for field in dataclasses.fields(RecordStores)}


@pytest.mark.parametrize("field", sorted(IMPLEMENTATIONS))
def test_each_store_has_its_ports_methods_with_the_same_signatures(field: str) -> None:
    port, store = IMPLEMENTATIONS[field]
    methods = _port_methods(port)
    assert methods, port
    for name in methods:
        assert inspect.iscoroutinefunction(getattr(store, name)), (store, name)
        assert inspect.signature(getattr(store, name)) == inspect.signature(getattr(port, name)), (
            store,
            name,
        )


def test_postgres_record_stores_fills_every_field_with_its_store() -> None:
    pool = cast(asyncpg.Pool, object())  # the stores only keep the pool until they are used
    stores = postgres_record_stores(pool)
    for field in dataclasses.fields(RecordStores):
        value = getattr(stores, field.name)
        port, store = IMPLEMENTATIONS[field.name]
        assert type(value) is store, field.name
        assert vars(value)["_pool"] is pool, field.name
        for name in _port_methods(port):
            assert callable(getattr(value, name)), (field.name, name)


def test_no_module_in_storage_postgres_exceeds_400_lines() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 10
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in modules
        if (n := len(path.read_text("utf-8").splitlines())) > 400
    }
    assert not too_long


def test_the_migrations_ship_beside_the_postgres_stores() -> None:
    from storage.postgres.migrate import available_migrations

    migrations = available_migrations()
    assert [m.version for m in migrations][:2] == [1, 2]
    assert all(m.sql.strip() for m in migrations)


def test_mypy_accepts_the_stores_as_their_ports() -> None:
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(
        ["--strict", "--ignore-missing-imports", "--no-error-summary", __file__]
    )
    assert status == 0, stdout + stderr
