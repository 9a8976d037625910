"""The system of record in PostgreSQL: one store per narrow port, each with its SQL beside it.

`postgres_record_stores(pool)` builds the `RecordStores` bundle the composition root hands to
the services; `pool` opens the asyncpg pool, `migrate` applies `migrations/*.sql`.
"""

from __future__ import annotations

import asyncpg

from services.ports import RecordStores
from storage.postgres.api import PostgresApiReads, PostgresApiTokens
from storage.postgres.attendance import PostgresAttendanceRecords
from storage.postgres.course_admin import PostgresCourseAdmin
from storage.postgres.courses import PostgresCourseRecords
from storage.postgres.excuses import PostgresExcuseRecords
from storage.postgres.grading import PostgresGradingRecords
from storage.postgres.nudges import PostgresNudgeOutbox
from storage.postgres.privacy import PostgresPrivacyRecords
from storage.postgres.reachability import PostgresReachability
from storage.postgres.roles import PostgresRoleRecords
from storage.postgres.roster import PostgresRosterPlaces
from storage.postgres.sessions import PostgresSessionRecords
from storage.postgres.staff import PostgresCourseStaff
from storage.postgres.summaries import PostgresSummaryOutbox
from storage.postgres.timetables import PostgresTimetableRecords
from storage.postgres.users import PostgresUserRecords
from storage.postgres.warnings import PostgresWarningRecords
from storage.postgres.webhooks import PostgresWebhooks


def postgres_record_stores(pool: asyncpg.Pool) -> RecordStores:
    """Every record port over one shared pool."""
    return RecordStores(
        sessions=PostgresSessionRecords(pool),
        attendance=PostgresAttendanceRecords(pool),
        courses=PostgresCourseRecords(pool),
        course_admin=PostgresCourseAdmin(pool),
        staff=PostgresCourseStaff(pool),
        summaries=PostgresSummaryOutbox(pool),
        nudges=PostgresNudgeOutbox(pool),
        reachability=PostgresReachability(pool),
        users=PostgresUserRecords(pool),
        roles=PostgresRoleRecords(pool),
        privacy=PostgresPrivacyRecords(pool),
        excuses=PostgresExcuseRecords(pool),
        grading=PostgresGradingRecords(pool),
        warnings=PostgresWarningRecords(pool),
        places=PostgresRosterPlaces(pool),
        timetables=PostgresTimetableRecords(pool),
        api_tokens=PostgresApiTokens(pool),
        api_reads=PostgresApiReads(pool),
        webhooks=PostgresWebhooks(pool),
    )


__all__ = [
    "PostgresApiReads",
    "PostgresApiTokens",
    "PostgresAttendanceRecords",
    "PostgresCourseAdmin",
    "PostgresCourseRecords",
    "PostgresCourseStaff",
    "PostgresExcuseRecords",
    "PostgresGradingRecords",
    "PostgresNudgeOutbox",
    "PostgresPrivacyRecords",
    "PostgresReachability",
    "PostgresRoleRecords",
    "PostgresRosterPlaces",
    "PostgresSessionRecords",
    "PostgresSummaryOutbox",
    "PostgresTimetableRecords",
    "PostgresUserRecords",
    "PostgresWarningRecords",
    "PostgresWebhooks",
    "postgres_record_stores",
]
