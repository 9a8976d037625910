"""In-memory `Reachability`: users the bot cannot write to, and what waited for them."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.memory.database import MemoryDatabase, UnreachableRow


class MemoryReachability:
    """One row per unreachable user; queued rows to them end without a request."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def set_unreachable(self, user_id: int, reason: str, now: datetime) -> None:
        self._db.check()
        row = self._db.unreachable_users.get(user_id)
        if row is None:
            self._db.unreachable_users[user_id] = UnreachableRow(reason[:200], now)
        else:  # ON CONFLICT DO UPDATE SET reason: `since` stays the first time
            row.reason = reason[:200]

    async def set_reachable(self, user_id: int) -> None:
        self._db.check()
        self._db.unreachable_users.pop(user_id, None)

    async def awaited_users(self) -> set[int]:
        db = self._db
        db.check()
        teachers = {
            db.sessions[sid].teacher_id
            for sid, row in db.summary_outbox.items()
            if row.sent_at is None
            and row.failed_at is not None
            and row.failure is not None
            and row.failure != "rejected"
        }
        return set(db.unreachable_users) | teachers

    async def give_up_unreachable(self, now: datetime) -> dict[str, int]:
        db = self._db
        db.check()
        counts = {"summary": 0, "nudge": 0}
        targets = [
            ("summary", db.sessions[sid].teacher_id, row) for sid, row in db.summary_outbox.items()
        ] + [("nudge", student, row) for (_, student), row in db.nudge_outbox.items()]
        for kind, user_id, row in targets:
            unreachable = db.unreachable_users.get(user_id)
            if (
                unreachable is not None
                and row.sent_at is None
                and row.failed_at is None
                and (row.claimed_until is None or row.claimed_until < now)
            ):
                row.failed_at, row.failure, row.last_error = now, "unreachable", unreachable.reason
                counts[kind] += 1
        return counts
