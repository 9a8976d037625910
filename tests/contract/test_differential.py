"""Seeded random sequences of record operations, applied to PostgreSQL and to memory:
every answer must be the same, step by step.

Why: the per-port tests check what we thought of; this finds the join, NULL or ordering
case nobody wrote down. Only orderings the SQL leaves undefined (RETURNING, a roster) are
compared sorted; arguments keep to what the schema accepts (existing courses, fresh
pseudonyms, one profile per batch).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.models import AttendanceStatus, SummaryPart, UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, record_backend, session

SESSION_IDS = [f"s{i}" for i in range(8)]
STUDENTS = list(range(1, 7))
TEACHERS = [1001, 1002]

Op = Callable[[RecordStores], Awaitable[Any]]


class Script:
    """One random operation at a time, with the state both backends should share."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.courses: list[int] = []
        self.persisted: list[str] = []
        self.pseudonym = 0
        self.now = T0

    def start(self, sid: str) -> datetime:
        return T0 + timedelta(days=SESSION_IDS.index(sid))

    def next(self) -> tuple[str, Op]:
        rng = self.rng
        self.now += timedelta(seconds=rng.choice([1, 30, 90, 400, 86400]))
        now = self.now
        sid = rng.choice(SESSION_IDS)
        student = rng.choice(STUDENTS)
        kind = rng.choice(
            ["persist"] * 6
            + ["course", "enrol", "enrol", "profile", "register", "forget", "unreachable"]
            + ["reachable", "claim", "claim", "postpone", "give_up", "sent", "part", "nudges"]
            + ["nudge_done", "give_up_unreachable", "correct", "retention", "read", "read"]
        )
        if kind == "persist":
            course = rng.choice([None, *self.courses])
            start = self.start(sid)
            rows = [
                checkin(
                    sid,
                    s,
                    minute=rng.choice([None, 1, 5, 12]),
                    status=rng.choice(list(AttendanceStatus)),
                    started_at=start,
                )
                for s in rng.sample(STUDENTS, rng.randint(0, len(STUDENTS)))
            ]
            teacher = rng.choice(TEACHERS)
            self.persisted.append(sid)

            async def persist(r: RecordStores) -> Any:
                inserted, new = await r.sessions.persist_session(
                    session(sid, teacher, start, course), rows
                )
                return inserted, sorted(new)

            return kind, persist
        if kind == "course":
            teacher, name = rng.choice(TEACHERS), rng.choice(["Maths", "Art", "bio"])
            code, token = rng.choice("ABCDE"), rng.choice("vwxyz")

            async def create(r: RecordStores) -> Any:
                made = await r.courses.create_course(
                    teacher, name=name, join_code=code, invite_token=token
                )
                if made is not None and made.id not in self.courses:
                    self.courses.append(made.id)
                return made

            return kind, create
        if kind == "enrol" and self.courses:
            course_id = rng.choice(self.courses)
            profile = UserProfile(student, f"N{rng.randint(0, 3)}", last_seen=now)
            return kind, lambda r: r.courses.enrol(course_id, profile)
        if kind == "profile":
            profile = UserProfile(
                student,
                rng.choice(["ann", "Bo", ""]),
                rng.choice([None, "Lee"]),
                f"u{student}",
                rng.choice([None, "Full Name"]),
                rng.choice([None, "S1"]),
                rng.choice([None, now, now - timedelta(days=3)]),
            )
            return kind, lambda r: r.users.upsert_profiles([profile])
        if kind == "register":
            profile = UserProfile(student, "Reg", last_seen=now)
            return kind, lambda r: r.users.save_registration(
                profile, full_name="Reg Name", student_number=None
            )
        if kind == "forget":
            self.pseudonym -= 1
            pseudonym = self.pseudonym - 1000
            at = rng.choice([now, T0 + timedelta(days=rng.randint(0, 8))])
            return kind, lambda r: r.privacy.forget_user(student, pseudonym=pseudonym, now=at)
        if kind == "unreachable":
            user = rng.choice([*STUDENTS, *TEACHERS])
            return kind, lambda r: r.reachability.set_unreachable(user, "blocked", now)
        if kind == "reachable":
            user = rng.choice([*STUDENTS, *TEACHERS])
            return kind, lambda r: r.reachability.set_reachable(user)
        if kind == "claim":

            async def claim(r: RecordStores) -> Any:
                return sorted(await r.summaries.claim_pending_summaries(now, 60, 100))

            return kind, claim
        if kind == "postpone":
            at = now + timedelta(seconds=rng.choice([10, 500]))
            return kind, lambda r: r.summaries.postpone_summary(sid, at, "retry")
        if kind == "give_up":
            failure = rng.choice(["blocked", "rejected", "network"])
            return kind, lambda r: r.summaries.give_up_summary(
                sid, now=now, failure=failure, error="e"
            )
        if kind == "sent":
            return kind, lambda r: r.summaries.mark_summary_sent(sid, now)
        if kind == "part":
            part = rng.choice(list(SummaryPart))
            return kind, lambda r: r.summaries.mark_summary_part_sent(sid, part)
        if kind in ("nudges", "nudge_done"):
            done = kind == "nudge_done"

            async def nudges(r: RecordStores) -> Any:
                claimed = sorted(
                    await r.nudges.claim_pending_nudges(now, 60, 100),
                    key=lambda n: (n.session_id, n.student_id),
                )
                for n in claimed[:1] if done else []:
                    await r.nudges.mark_nudge_sent(n, now)
                return claimed

            return kind, nudges
        if kind == "give_up_unreachable":
            return kind, lambda r: r.reachability.give_up_unreachable(now)
        if kind == "correct" and self.persisted:
            target = rng.choice(self.persisted)
            status = rng.choice(list(AttendanceStatus))
            return kind, lambda r: r.attendance.correct_status(
                target, student, status=status, changed_by=1001, now=now
            )
        if kind == "retention":
            cutoff = T0 + timedelta(days=rng.randint(-1, 3))
            self.persisted = [p for p in self.persisted if self.start(p) >= cutoff]
            return kind, lambda r: r.privacy.delete_older_than(
                cutoff=cutoff, forgotten_cutoff=cutoff
            )

        async def read(r: RecordStores) -> Any:
            result: list[Any] = [
                await r.summaries.load_summary(sid),
                await r.summaries.summary_parts_sent(sid),
                await r.summaries.outbox_pending(),
                await r.reachability.awaited_users(),
                await r.privacy.personal_data(student),
                await r.attendance.export_rows(None),
                await r.sessions.latest_session(rng_teacher),
                await r.users.load_profiles(STUDENTS),
                await r.summaries.claim_undelivered_summaries(rng_teacher, now, 60),
                await r.roles.teachers(),
            ]
            for course_id in self.courses:
                result += [
                    await r.attendance.course_standings(course_id),
                    await r.attendance.course_sessions(course_id),
                    sorted(await r.courses.roster(course_id)),
                    await r.courses.course(course_id),
                    await r.courses.teacher_courses(rng_teacher),
                ]
            return result

        rng_teacher = rng.choice(TEACHERS)
        return "read", read


@pytest.mark.parametrize("seed", range(10))
async def test_memory_answers_as_postgres_does(seed: int, database_url: str) -> None:
    script = Script(seed)
    async with (
        record_backend("postgres", database_url) as pg,
        record_backend("memory") as memory,
    ):
        for step in range(120):
            kind, op = script.next()
            expected = await op(pg)
            actual = await op(memory)
            assert actual == expected, f"seed {seed}, step {step}: {kind}"
