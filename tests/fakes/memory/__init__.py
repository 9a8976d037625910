"""In-memory implementations of every record port, sharing one `MemoryDatabase`.

They reproduce storage/postgres/'s SQL row for row (conflicts ignored, leases, the
/forgetme pseudonyms, retention), and tests/contract runs the same assertions on both.
"""

from __future__ import annotations

from services.ports import RecordStores
from tests.fakes.memory.api import MemoryApiReads, MemoryApiTokens
from tests.fakes.memory.attendance import MemoryAttendanceRecords
from tests.fakes.memory.course_admin import MemoryCourseAdmin
from tests.fakes.memory.courses import MemoryCourseRecords
from tests.fakes.memory.database import MemoryDatabase
from tests.fakes.memory.excuses import MemoryExcuseRecords
from tests.fakes.memory.grading import MemoryGradingRecords
from tests.fakes.memory.nudges import MemoryNudgeOutbox
from tests.fakes.memory.privacy import MemoryPrivacyRecords
from tests.fakes.memory.reachability import MemoryReachability
from tests.fakes.memory.roles import MemoryRoleRecords
from tests.fakes.memory.roster import MemoryRosterPlaces
from tests.fakes.memory.sessions import MemorySessionRecords
from tests.fakes.memory.staff import MemoryCourseStaff
from tests.fakes.memory.summaries import MemorySummaryOutbox
from tests.fakes.memory.timetables import MemoryTimetableRecords
from tests.fakes.memory.users import MemoryUserRecords
from tests.fakes.memory.warnings import MemoryWarningRecords
from tests.fakes.memory.webhooks import MemoryWebhooks


def memory_record_stores(db: MemoryDatabase | None = None) -> RecordStores:
    """Every record port over one in-memory database (a fresh one unless given)."""
    db = db if db is not None else MemoryDatabase()
    return RecordStores(
        sessions=MemorySessionRecords(db),
        attendance=MemoryAttendanceRecords(db),
        courses=MemoryCourseRecords(db),
        course_admin=MemoryCourseAdmin(db),
        staff=MemoryCourseStaff(db),
        summaries=MemorySummaryOutbox(db),
        nudges=MemoryNudgeOutbox(db),
        reachability=MemoryReachability(db),
        users=MemoryUserRecords(db),
        roles=MemoryRoleRecords(db),
        privacy=MemoryPrivacyRecords(db),
        excuses=MemoryExcuseRecords(db),
        grading=MemoryGradingRecords(db),
        warnings=MemoryWarningRecords(db),
        places=MemoryRosterPlaces(db),
        timetables=MemoryTimetableRecords(db),
        api_tokens=MemoryApiTokens(db),
        api_reads=MemoryApiReads(db),
        webhooks=MemoryWebhooks(db),
    )


__all__ = ["MemoryDatabase", "memory_record_stores"]
