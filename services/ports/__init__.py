"""What the services need from the outside world, as narrow protocols, one per aggregate.

Live state (Redis) and records (PostgreSQL) are each split by aggregate, so a service names
only the stores it uses and a fake implements a dozen methods at most. `storage/redis/` and
`storage/postgres/` implement them; `tests/fakes/memory/` holds in-memory records for the
fast test loop. The bot layer implements `Notifier`, so services never import `telegram`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.ports.api import ApiReadRecords, ApiRequestBudget, ApiTokenRecords
from services.ports.cards import CardStore
from services.ports.checkins import CheckInStore, CodeStore
from services.ports.courses import CourseAdmin, CourseRecords, CourseStaffRecords
from services.ports.excuses import ExcuseRecords
from services.ports.grading import GradingRecords, WarningRecords
from services.ports.live_sessions import LiveSessionStore
from services.ports.notifier import Notifier
from services.ports.outbox import NudgeOutbox, Reachability, SummaryOutbox
from services.ports.people import PrivacyRecords, RoleRecords, UserRecords
from services.ports.profiles import ChatStateStore, ProfileCache, SendPacer
from services.ports.projector import ProjectorStore
from services.ports.records import AttendanceRecords, SessionRecords
from services.ports.roster import RosterPlaces
from services.ports.sweeps import SweepStore
from services.ports.timetables import TimetableRecords
from services.ports.values import GuessLimit, SendSlot, SweepClaim, Visit
from services.ports.webhooks import WebhookRecords


@dataclass(frozen=True)
class LiveStores:
    """Every live (Redis) port, as the composition root hands them to the services."""

    sessions: LiveSessionStore
    checkins: CheckInStore
    codes: CodeStore
    cards: CardStore
    sweeps: SweepStore
    profiles: ProfileCache
    chat_state: ChatStateStore
    pacer: SendPacer
    api_budget: ApiRequestBudget
    projector: ProjectorStore


@dataclass(frozen=True)
class RecordStores:
    """Every record (PostgreSQL) port, as the composition root hands them to the services."""

    sessions: SessionRecords
    attendance: AttendanceRecords
    courses: CourseRecords
    course_admin: CourseAdmin
    staff: CourseStaffRecords
    summaries: SummaryOutbox
    nudges: NudgeOutbox
    reachability: Reachability
    users: UserRecords
    roles: RoleRecords
    privacy: PrivacyRecords
    excuses: ExcuseRecords
    grading: GradingRecords
    warnings: WarningRecords
    places: RosterPlaces
    timetables: TimetableRecords
    api_tokens: ApiTokenRecords
    api_reads: ApiReadRecords
    webhooks: WebhookRecords


__all__ = [
    "ApiReadRecords",
    "ApiRequestBudget",
    "ApiTokenRecords",
    "AttendanceRecords",
    "CardStore",
    "ChatStateStore",
    "CheckInStore",
    "CodeStore",
    "CourseAdmin",
    "CourseRecords",
    "CourseStaffRecords",
    "ExcuseRecords",
    "GradingRecords",
    "GuessLimit",
    "LiveSessionStore",
    "LiveStores",
    "Notifier",
    "NudgeOutbox",
    "PrivacyRecords",
    "ProfileCache",
    "ProjectorStore",
    "Reachability",
    "RecordStores",
    "RoleRecords",
    "RosterPlaces",
    "SendPacer",
    "SendSlot",
    "SessionRecords",
    "SummaryOutbox",
    "SweepClaim",
    "SweepStore",
    "TimetableRecords",
    "UserRecords",
    "Visit",
    "WarningRecords",
    "WebhookRecords",
]
