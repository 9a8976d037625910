"""WebhookRecords: a course's hook (replaced and removed with its queued deliveries, audited)
and its outbox — one row per saved session and hook however often the session is saved,
claimed at most `per_hook` a hook, skipped hooks left alone, back-off and final states — the
same on PostgreSQL and in memory."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.models import CourseAction
from services.ports import RecordStores
from tests.contract.backends import T0, checkin, session


async def _course(records: RecordStores, name: str) -> int:
    c = await records.courses.create_course(
        1001, name=name, join_code=name[:2].upper() + "J", invite_token=name + "I"
    )
    assert c is not None
    return c.id


async def test_one_delivery_per_saved_session_and_hook(records: RecordStores) -> None:
    hooks = records.webhooks
    maths, art = await _course(records, "Maths"), await _course(records, "Art")
    assert await hooks.course_webhook(maths) is None
    made = await hooks.set_course_webhook(
        maths, url="https://a.example/h", secret="whsec_1", by=1001, now=T0
    )
    assert (made.course_id, made.url, made.secret) == (maths, "https://a.example/h", "whsec_1")
    assert await hooks.course_webhook(maths) == made

    for n in range(1, 7):
        s = session(f"m{n}", course_id=maths, started_at=T0 + timedelta(hours=n))
        await records.sessions.persist_session(s, [checkin(s.id, 2)], first_attempt=True)
        await records.sessions.persist_session(s, [checkin(s.id, 2)])  # the sweep again
        await records.sessions.persist_session(s, [checkin(s.id, 2)], first_attempt=True)
    await records.sessions.persist_session(session("a1", course_id=art), [])  # no hook
    await records.sessions.persist_session(session("x1"), [])  # no course

    status = await hooks.webhook_status(maths)
    assert status is not None and (status.delivered, status.pending, status.failed) == (0, 6, 0)

    now = T0 + timedelta(days=1)
    claimed = await hooks.claim_webhook_deliveries(now, 60, 10, per_hook=4, skip_hooks=[])
    assert [(d.session_id, d.attempts, d.url, d.secret) for d in claimed] == [
        (f"m{n}", 1, "https://a.example/h", "whsec_1") for n in range(1, 5)
    ]
    # Leased: not claimed again; a skipped hook is left alone.
    assert await hooks.claim_webhook_deliveries(now, 60, 10, per_hook=4, skip_hooks=[made.id]) == []
    rest = await hooks.claim_webhook_deliveries(now, 60, 10, per_hook=4, skip_hooks=[])
    assert [d.session_id for d in rest] == ["m5", "m6"]

    first, second, third, fourth = claimed
    await hooks.mark_webhook_delivered(first.id, now, 204)
    await hooks.postpone_webhook(second.id, now + timedelta(seconds=30), 500, "HTTP 500")
    await hooks.give_up_webhook(third.id, now, None, "gave up after 30 attempts: Timeout")
    await hooks.release_webhook(fourth.id)  # not tried: the attempt does not count
    for d in rest:
        await hooks.release_webhook(d.id)
    status = await hooks.webhook_status(maths)
    assert status is not None
    assert (status.delivered, status.pending, status.failed) == (1, 4, 1)
    assert status.last_error == "gave up after 30 attempts: Timeout"

    again = await hooks.claim_webhook_deliveries(now, 60, 10, per_hook=4, skip_hooks=[])
    assert [(d.session_id, d.attempts) for d in again] == [("m4", 1), ("m5", 1), ("m6", 1)]
    later = now + timedelta(seconds=61)
    due = await hooks.claim_webhook_deliveries(later, 60, 10, per_hook=4, skip_hooks=[])
    assert [(d.session_id, d.attempts) for d in due] == [
        ("m2", 2),
        ("m4", 2),
        ("m5", 2),
        ("m6", 2),
    ]


async def test_replacing_or_removing_the_hook_drops_its_queue(records: RecordStores) -> None:
    hooks = records.webhooks
    maths = await _course(records, "Maths")
    old = await hooks.set_course_webhook(
        maths, url="https://a.example/1", secret="s1", by=1001, now=T0
    )
    await records.sessions.persist_session(session("m1", course_id=maths), [])
    new = await hooks.set_course_webhook(
        maths, url="https://b.example/2", secret="s2", by=1001, now=T0
    )
    assert new.id != old.id
    status = await hooks.webhook_status(maths)
    assert status is not None and status.pending == 0  # queued for the old URL: dropped
    await records.sessions.persist_session(session("m2", course_id=maths), [])
    [d] = await hooks.claim_webhook_deliveries(T0, 60, 10, per_hook=4, skip_hooks=[])
    assert (d.session_id, d.url, d.secret) == ("m2", "https://b.example/2", "s2")

    assert await hooks.clear_course_webhook(maths, by=1001, now=T0) is True
    assert await hooks.clear_course_webhook(maths, by=1001, now=T0) is False
    assert await hooks.webhook_status(maths) is None
    assert await hooks.claim_webhook_deliveries(T0, 0, 10, per_hook=4, skip_hooks=[]) == []
    audit = await records.course_admin.course_changes(maths)
    assert [(a.action, a.old_value, a.new_value) for a in audit] == [
        (CourseAction.WEBHOOK_SET, None, "https://a.example/1"),
        (CourseAction.WEBHOOK_SET, "https://a.example/1", "https://b.example/2"),
        (CourseAction.WEBHOOK_CLEAR, "https://b.example/2", None),
    ]


async def test_notices_are_written_with_what_they_tell_and_claimed_once(
    records: RecordStores,
) -> None:
    """A give-up for the owner writes a `gave_up` notice (a give-up without, none); a hook's
    `failing` notice is written once until a delivery goes through; claims at once (on
    PostgreSQL, on connections of their own) hand each notice to one claimer only."""
    hooks = records.webhooks
    maths = await _course(records, "Maths")
    hook = await hooks.set_course_webhook(
        maths, url="https://a.example/h?k=1", secret="whsec_1", by=1001, now=T0
    )
    for n in range(1, 5):
        s = session(f"m{n}", course_id=maths, started_at=T0 + timedelta(hours=n), title=f"W{n}")
        await records.sessions.persist_session(s, [], first_attempt=True)
    now = T0 + timedelta(days=1)
    d1, d2, d3, d4 = await hooks.claim_webhook_deliveries(now, 60, 10, per_hook=4, skip_hooks=[])

    assert await hooks.note_hook_failing(d1.id, now, "HTTP 503")
    assert not await hooks.note_hook_failing(d2.id, now, "HTTP 503")  # failing already
    await hooks.give_up_webhook(d1.id, now, 503, "gave up after 1: HTTP 503", tell_owner=True)
    await hooks.give_up_webhook(d1.id, now, 503, "again", tell_owner=True)  # failed already
    await hooks.give_up_webhook(d2.id, now, None, "the session is gone")  # not told
    await hooks.mark_webhook_delivered(d3.id, now, 200)
    assert await hooks.note_hook_failing(d4.id, now, "ConnectError")  # a new spell

    claims = await asyncio.gather(*(hooks.claim_webhook_notices(now, 10) for _ in range(4)))
    notices = sorted((n for claim in claims for n in claim), key=lambda n: n.id)
    assert [(n.kind, n.session_id, n.session_title, n.error) for n in notices] == [
        ("failing", "m1", "W1", "HTTP 503"),
        ("gave_up", "m1", "W1", "gave up after 1: HTTP 503"),
        ("failing", "m4", "W4", "ConnectError"),
    ]
    first = notices[0]
    assert (first.owner_id, first.course_id, first.course_name, first.url, first.attempts) == (
        1001,
        maths,
        "Maths",
        "https://a.example/h?k=1",
        1,
    )
    assert first.session_started_at == T0 + timedelta(hours=1)
    assert await hooks.claim_webhook_notices(now, 10) == []
    assert hook.id == d1.hook_id
