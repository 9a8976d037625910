"""SummaryOutbox, NudgeOutbox and Reachability on PostgreSQL and in memory."""

from __future__ import annotations

from datetime import timedelta

from services.models import AttendanceStatus, Preferences, SummaryPart, UserProfile
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, session

A = AttendanceStatus.ABSENT
NOW = T0 + timedelta(days=1)


async def _saved(records: RecordStores, *ids: str, teacher_id: int = 1001) -> None:
    for i, sid in enumerate(ids):
        start = T0 + timedelta(minutes=i)
        await records.sessions.persist_session(
            session(sid, teacher_id=teacher_id, started_at=start),
            [checkin(sid, 2, started_at=start)],
        )


async def test_claims_lease_count_attempts_and_skip_backoff(records: RecordStores) -> None:
    await _saved(records, "a", "b", "c")
    out = records.summaries
    # The oldest first; RETURNING has no order, so each claim is compared sorted.
    assert sorted(await out.claim_pending_summaries(NOW, 60, 2)) == [("a", 1), ("b", 1)]
    assert await out.claim_pending_summaries(NOW, 60, 10) == [("c", 1)]
    assert await out.claim_pending_summaries(NOW + timedelta(seconds=30), 60, 10) == []
    await out.extend_summary_lease("a", NOW + timedelta(seconds=300))
    await out.postpone_summary("b", NOW + timedelta(seconds=200), "x" * 900)
    await out.release_summary("c")
    later = NOW + timedelta(seconds=100)
    assert await out.claim_pending_summaries(later, 60, 10) == [("c", 2)]
    much_later = NOW + timedelta(seconds=400)
    assert sorted(await out.claim_pending_summaries(much_later, 60, 10)) == [
        ("a", 2),
        ("b", 2),
        ("c", 3),
    ]
    await out.mark_summary_sent("a", much_later)
    await out.mark_summary_sent("a", much_later + timedelta(1))
    assert await out.outbox_pending() == {"summary": 2, "nudge": 0}
    await out.extend_summary_lease("a", much_later + timedelta(1))  # sent: no lease
    assert sorted(await out.claim_pending_summaries(much_later + timedelta(2), 60, 10)) == [
        ("b", 3),
        ("c", 4),
    ]


async def test_given_up_summaries_wait_for_their_teacher(records: RecordStores) -> None:
    await _saved(records, "a", "b", "c", "d")
    out = records.summaries
    await out.claim_pending_summaries(NOW, 60, 10)
    await out.give_up_summary("b", now=NOW, failure="blocked", error="Forbidden")
    await out.give_up_summary("a", now=NOW, failure="network", error="timeout")
    await out.give_up_summary("c", now=NOW, failure="rejected", error="Bad Request")
    assert await out.outbox_pending() == {"summary": 1, "nudge": 0}
    assert await records.reachability.awaited_users() == {1001}
    assert await out.claim_pending_summaries(NOW + timedelta(1), 60, 10) == [("d", 2)]
    assert await out.claim_undelivered_summaries(1001, NOW, 60) == ["a", "b"]
    assert await out.claim_undelivered_summaries(1001, NOW, 60) == []
    assert await out.claim_undelivered_summaries(7, NOW + timedelta(1), 60) == []
    assert await out.claim_undelivered_summaries(1001, NOW + timedelta(1), 60) == ["a", "b"]
    await out.mark_summary_sent("a", NOW)
    await out.mark_summary_sent("b", NOW)
    assert await records.reachability.awaited_users() == set()


async def test_summary_parts_and_loading(records: RecordStores) -> None:
    await records.users.upsert_profiles([UserProfile(2, "Ann")])
    await _saved(records, "a")
    out = records.summaries
    assert await out.summary_parts_sent("a") == frozenset()
    await out.mark_summary_part_sent("a", SummaryPart.TEXT)
    await out.mark_summary_part_sent("a", SummaryPart.TEXT)
    await out.mark_summary_part_sent("a", SummaryPart.CSV)
    await out.mark_summary_part_sent("none", SummaryPart.CSV)
    assert await out.summary_parts_sent("a") == {SummaryPart.TEXT, SummaryPart.CSV}
    assert await out.summary_parts_sent("none") == frozenset()
    summary = await out.load_summary("a")
    assert summary is not None
    assert [(line.student_id, line.name) for line in summary.lines] == [(2, "Ann")]
    assert (summary.course_name, summary.at_risk, summary.roster_size) == (None, [], 0)
    assert await out.load_summary("none") is None


async def _course_with_absences(records: RecordStores, sessions: int) -> int:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    for uid in (2, 3):
        await records.courses.enrol(course.id, UserProfile(uid, f"S{uid}"))
    for i in range(sessions):
        start = T0 + timedelta(days=i)
        sid = f"c{i}"
        status = AttendanceStatus.PRESENT if i % 3 == 0 else A
        await records.sessions.persist_session(
            session(sid, started_at=start, course_id=course.id),
            [checkin(sid, 2, started_at=start, status=status), checkin(sid, 3, started_at=start)],
        )
    return course.id


async def test_nudges_after_three_sessions_then_every_three(records: RecordStores) -> None:
    course_id = await _course_with_absences(records, 7)
    nudges = await records.nudges.claim_pending_nudges(NOW, 60, 10)
    # Below 70% from session 3 (33.3%), then again 3 sessions later (c5: 33.3%).
    assert sorted((n.session_id, n.student_id, n.percent, n.attempts) for n in nudges) == [
        ("c2", 2, 33.3, 1),
        ("c5", 2, 33.3, 1),
    ]
    assert {(n.course_name, n.threshold) for n in nudges} == {("Maths", 70)}
    summary = await records.summaries.load_summary("c6")
    assert summary is not None and summary.course_name == "Maths" and summary.roster_size == 2
    assert [s.student_id for s in summary.at_risk] == [2]
    first, second = sorted(nudges, key=lambda n: n.session_id)
    await records.nudges.mark_nudge_sent(first, NOW)
    await records.nudges.postpone_nudge(second, NOW + timedelta(seconds=90), "retry")
    await records.nudges.extend_nudge_lease(second, NOW + timedelta(seconds=500))
    assert await records.summaries.outbox_pending() == {"summary": 7, "nudge": 1}
    assert await records.nudges.claim_pending_nudges(NOW + timedelta(seconds=100), 60, 10) == []
    [again] = await records.nudges.claim_pending_nudges(NOW + timedelta(seconds=600), 60, 10)
    assert (again.session_id, again.attempts) == ("c5", 2)
    await records.nudges.release_nudge(again)
    await records.nudges.give_up_nudge(again, now=NOW, failure="blocked", error="Forbidden")
    assert await records.summaries.outbox_pending() == {"summary": 7, "nudge": 0}
    assert course_id > 0


async def test_unreachable_users_end_their_rows_at_once(records: RecordStores) -> None:
    await _course_with_absences(records, 3)
    await records.reachability.set_unreachable(2, "blocked", T0)
    await records.reachability.set_unreachable(2, "deactivated" * 30, NOW)
    await records.reachability.set_unreachable(1001, "blocked", T0)
    await records.summaries.claim_pending_summaries(NOW, 60, 1)  # leased: left alone
    counts = await records.reachability.give_up_unreachable(NOW)
    assert counts == {"summary": 2, "nudge": 1}
    assert await records.reachability.awaited_users() == {2, 1001}
    assert await records.summaries.claim_undelivered_summaries(1001, NOW, 60) == ["c1", "c2"]
    await records.reachability.set_reachable(2)
    await records.reachability.set_reachable(2)
    assert await records.reachability.awaited_users() == {1001}
    # No nudge is queued to an unreachable student.
    await records.reachability.set_unreachable(2, "blocked", NOW)
    start = T0 + timedelta(days=9)
    await records.sessions.persist_session(
        session("late", started_at=start, course_id=1), [checkin("late", 2, status=A)]
    )
    assert await records.summaries.outbox_pending() == {"summary": 2, "nudge": 0}


async def test_no_nudge_is_handed_out_to_a_student_who_switched_them_off(
    records: RecordStores,
) -> None:
    await _course_with_absences(records, 7)
    await records.users.save_preferences(2, Preferences(nudges=False))
    assert await records.nudges.claim_pending_nudges(NOW, 60, 10) == []
    assert await records.summaries.outbox_pending() == {"summary": 7, "nudge": 0}
    # Switched on again: the skipped ones stay skipped (no stale warnings); new ones come.
    await records.users.save_preferences(2, Preferences(nudges=True))
    assert await records.nudges.claim_pending_nudges(NOW, 60, 10) == []
