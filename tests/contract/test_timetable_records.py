"""TimetableRecords: timetables round-trip, and each stage of a slot is claimed once, the
same on PostgreSQL and in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

from services.ports import RecordStores
from services.timetable_slots import SlotRule, SlotRun, Timetable
from tests.contract.backends import T0


async def test_a_timetable_round_trips_and_is_deleted(records: RecordStores) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    store = records.timetables
    assert await store.timetable(course.id) is None
    timetable = Timetable(
        course.id,
        date(2027, 3, 1),
        date(2027, 6, 30),
        T0,
        rules=(SlotRule(0, time(10, 0), 90), SlotRule(2, time(9, 30), 60)),
        holidays=frozenset({date(2027, 3, 10), date(2027, 4, 1)}),
        early_minutes=5,
        remind_minutes=30,
        group_chat_id=-100_5,
    )
    await store.save_timetable(timetable)
    assert await store.timetable(course.id) == timetable
    changed = Timetable(course.id, date(2027, 3, 1), date(2027, 3, 31), T0 + timedelta(hours=1))
    await store.save_timetable(changed)
    assert await store.timetables() == [changed]
    assert await store.delete_timetable(course.id)
    assert not await store.delete_timetable(course.id)
    assert await store.timetables() == []


async def test_a_timetable_is_saved_over_only_the_one_it_was_made_from(
    records: RecordStores,
) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    store = records.timetables
    first = Timetable(course.id, date(2027, 3, 1), date(2027, 6, 30), T0)
    # None stored yet: the first of two saves made from nothing wins.
    assert await store.save_timetable_over(first, previous=T0 - timedelta(seconds=1))
    late = replace(first, early_minutes=9, changed_at=T0 + timedelta(seconds=1))
    assert not await store.save_timetable_over(late, previous=T0 - timedelta(seconds=1))
    assert await store.timetable(course.id) == first
    # Made from the stored one: saved; made from it again after that: refused.
    monday = replace(first, rules=(SlotRule(0, time(10), 60),), changed_at=T0 + timedelta(1))
    assert await store.save_timetable_over(monday, previous=T0)
    tuesday = replace(first, rules=(SlotRule(1, time(10), 60),), changed_at=T0 + timedelta(1))
    assert not await store.save_timetable_over(tuesday, previous=T0)
    assert await store.timetable(course.id) == monday


async def test_each_stage_of_a_slot_is_claimed_once(records: RecordStores) -> None:
    course = await records.courses.create_course(
        1001, name="Maths", join_code="J1", invite_token="I1"
    )
    assert course is not None
    store, slot = records.timetables, T0 + timedelta(days=1)
    assert await store.claim_reminder(course.id, starts_at=slot)
    assert not await store.claim_reminder(course.id, starts_at=slot)
    lease = T0 + timedelta(minutes=1)
    assert await store.claim_open(course.id, starts_at=slot, now=T0, until=lease)
    assert not await store.claim_open(course.id, starts_at=slot, now=T0, until=lease)
    # A process that died while opening frees the slot when its lease is over.
    assert await store.claim_open(course.id, starts_at=slot, now=lease, until=lease)
    await store.record_session(course.id, starts_at=slot, session_id="0a1b2c3d4e5f")
    later = lease + timedelta(hours=1)
    assert not await store.claim_open(course.id, starts_at=slot, now=later, until=later)
    assert await store.claim_report(course.id, starts_at=slot)
    assert not await store.claim_report(course.id, starts_at=slot)
    # A slot's report may be claimed before anything else happened to it (missed entirely).
    other = slot + timedelta(days=2)
    assert await store.claim_report(course.id, starts_at=other)
    assert await store.slot_runs(since=T0) == [
        SlotRun(course.id, slot, True, "0a1b2c3d4e5f", lease, True),
        SlotRun(course.id, other, False, None, None, True),
    ]
    assert await store.slot_runs(since=other) == [
        SlotRun(course.id, other, False, None, None, True)
    ]
