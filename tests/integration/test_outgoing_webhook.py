"""The outgoing webhook of a course on real PostgreSQL and a real HTTP receiver on loopback
(issue 16's acceptance): each saved session is delivered once with a valid signature, even
when the sweep saves it again; a receiver down for 30 s gets it once it is back; a receiver
that accepts and never answers does not delay another course's delivery."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot import webhook_sender
from bot.container import Services
from bot.webhook_sender import HttpxWebhookSender, WebhookRefused, webhook_courier_over
from services.clock import ManualClock
from services.models import AttendanceStatus, CheckIn, Course, Session, SessionState, UserProfile
from services.webhook_signing import verify_signature
from services.webhooks import WebhookCourier, WebhookRetry
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.webhook_receiver import WebhookReceiver

ANN, BOB = 61_001, 61_002


@pytest.fixture(autouse=True)
def receivers_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers listen on 127.0.0.1: ATTN_WEBHOOK_ALLOW_PRIVATE (before the services)."""
    monkeypatch.setenv("ATTN_WEBHOOK_ALLOW_PRIVATE", "true")


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    found = WebhookReceiver()
    yield found
    await found.stop()


def courier_of(services: Services, clock: ManualClock, timeout: float = 5.0) -> WebhookCourier:
    """The production courier over the real stores and httpx (receivers on 127.0.0.1);
    back-off without jitter (10 s, 20 s, 40 s …) so the test knows when a retry is due."""
    retry = WebhookRetry(base_seconds=10, jitter=0)
    return webhook_courier_over(services.records, clock, timeout, True, retry=retry)


async def course_with_students(services: Services, teacher: int, name: str) -> Course:
    course = await services.courses.new_course(teacher, name)
    for student, full in ((ANN, "Ann Lee"), (BOB, "Bob Ray")):
        profile = UserProfile(student, first_name=full.split()[0], full_name=full)
        await services.records.users.upsert_profiles([profile])
        await services.courses.join_by_code(profile, course.join_code)
    return course


def session_of(course: Course, n: int, clock: ManualClock) -> Session:
    started = clock.now() - timedelta(hours=2, minutes=n)
    return Session(
        id=f"{course.id:04x}{n:08x}",
        teacher_id=course.teacher_id,
        chat_id=course.teacher_id,
        title=f"Week {n}",
        code="",
        started_at=started,
        ends_at=started + timedelta(hours=1),
        state=SessionState.SEALED,
        late_at=started + timedelta(minutes=10),
        course_id=course.id,
    )


async def save(services: Services, session: Session, *, first_attempt: bool = True) -> None:
    """What the sweep does with an ended session (`first_attempt`: its first claim)."""
    rows = [
        CheckIn(
            session.id,
            ANN,
            int(session.started_at.timestamp() * 1000) + 60_000,
            AttendanceStatus.PRESENT,
        ),
        CheckIn(session.id, BOB, None, AttendanceStatus.ABSENT),
    ]
    await services.records.sessions.persist_session(session, rows, first_attempt=first_attempt)


async def outbox(services: Services) -> list[dict[str, object]]:
    assert services.pool is not None
    rows = await services.pool.fetch("SELECT * FROM webhook_outbox ORDER BY id")
    return [dict(r) for r in rows]


async def test_each_saved_session_is_delivered_once_signed(
    services: Services, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    await receiver.start()
    course = await course_with_students(services, TEACHER_ID, "Math 101")
    other = await course_with_students(services, ADMIN_ID, "No hook")
    new = await services.webhooks.set_url(TEACHER_ID, course.id, receiver.url)
    secret = new.hook.secret

    first, second = session_of(course, 1, clock), session_of(course, 2, clock)
    await save(services, first)
    # The sweep of `first` runs again (it died after committing, before leaving Redis), once
    # as a retry and once believing it is the first attempt: nothing is queued twice.
    await save(services, first, first_attempt=False)
    await save(services, first, first_attempt=True)
    await save(services, second)
    await save(services, session_of(other, 1, clock))  # a course without a webhook
    assert [(r["session_id"], r["hook_id"]) for r in await outbox(services)] == [
        (first.id, new.hook.id),
        (second.id, new.hook.id),
    ]

    courier = courier_of(services, clock)
    report = await courier.deliver()
    assert (report.delivered, report.retried, report.failed) == (2, 0, 0)
    await courier.deliver()  # nothing is due any more
    await courier.close()

    assert len(receiver.received) == 2
    by_session = {r.json()["session"]["id"]: r for r in receiver.received}
    assert set(by_session) == {first.id, second.id}
    rows = {r["session_id"]: r for r in await outbox(services)}
    for session_id, got in by_session.items():
        headers = got.headers
        assert headers["x-attn-event"] == "session.saved"
        assert headers["x-attn-delivery"] == str(rows[session_id]["id"])
        assert headers["content-type"] == "application/json"
        # The receiver's check, as the README shows it.
        expected = hmac.new(
            secret.encode(), headers["x-attn-timestamp"].encode() + b"." + got.body, hashlib.sha256
        ).hexdigest()
        assert headers["x-attn-signature"] == "sha256=" + expected
        assert verify_signature(
            secret,
            headers["x-attn-timestamp"],
            got.body,
            headers["x-attn-signature"],
            now=clock.now().timestamp(),
        )
        assert not verify_signature(
            "whsec_wrong",
            headers["x-attn-timestamp"],
            got.body,
            headers["x-attn-signature"],
            now=clock.now().timestamp(),
        )
        assert rows[session_id]["delivered_at"] == clock.now()
        assert rows[session_id]["attempts"] == 1

    # The API's representation: the session with its counts, and every record.
    payload = by_session[first.id].json()
    assert payload["event"] == "session.saved"
    assert payload["course_id"] == course.id
    assert payload["session"]["title"] == "Week 1"
    assert (payload["session"]["present"], payload["session"]["absent"]) == (1, 1)
    assert payload["session"]["attendance_percent"] == 50.0
    assert sorted((r["name"], r["status"]) for r in payload["records"]) == [
        ("Ann Lee", "present"),
        ("Bob Ray", "absent"),
    ]
    assert str(ANN) not in by_session[first.id].body.decode()  # never a Telegram id


async def test_a_receiver_down_for_30_seconds_gets_it_afterwards(
    services: Services, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    course = await course_with_students(services, TEACHER_ID, "Math 101")
    await services.webhooks.set_url(TEACHER_ID, course.id, receiver.url)
    session = session_of(course, 1, clock)
    await save(services, session)
    courier = courier_of(services, clock)
    try:
        # t = 0 s: nothing listens on the receiver's port (connection refused).
        report = await courier.deliver()
        assert (report.delivered, report.retried) == (0, 1)
        [row] = await outbox(services)
        assert row["delivered_at"] is None and row["attempts"] == 1
        assert "ConnectError" in str(row["last_error"])
        assert row["next_attempt_at"] == clock.now() + timedelta(seconds=10)

        clock.advance(seconds=5)  # not due yet: no attempt
        assert (await courier.deliver()).retried == 1
        clock.advance(seconds=5)  # t = 10 s: due, still down; next at t = 30 s
        report = await courier.deliver()
        assert (report.delivered, report.retried) == (0, 2)
        [row] = await outbox(services)
        assert row["attempts"] == 2

        clock.advance(seconds=20)  # t = 30 s: the receiver is back
        await receiver.start()
        report = await courier.deliver()
        assert report.delivered == 1
        [row] = await outbox(services)
        assert row["delivered_at"] == clock.now() and row["attempts"] == 3
        [got] = receiver.received
        assert got.json()["session"]["id"] == session.id
        assert got.headers["x-attn-delivery"] == str(row["id"])
        clock.advance(hours=1)
        await courier.deliver()
        assert len(receiver.received) == 1  # once
    finally:
        await courier.close()


async def test_a_dead_receiver_does_not_delay_another_course(
    services: Services, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    # Course A's receiver accepts connections and never answers; it has a backlog of six
    # saved sessions. Course B's receiver (another host) is healthy.
    dead = WebhookReceiver(host="localhost", hang=True)
    await dead.start()
    await receiver.start()
    try:
        stuck = await course_with_students(services, TEACHER_ID, "Stuck")
        healthy = await course_with_students(services, ADMIN_ID, "Healthy")
        await services.webhooks.set_url(TEACHER_ID, stuck.id, dead.url)
        await services.webhooks.set_url(ADMIN_ID, healthy.id, receiver.url)
        for n in range(1, 7):
            await save(services, session_of(stuck, n, clock))
        await save(services, session_of(healthy, 1, clock))

        courier = courier_of(services, clock, timeout=4.0)
        started = time.monotonic()
        assert await courier.dispatch() == 5  # four to the dead host (its share), one to B
        await asyncio.wait_for(receiver.arrived.wait(), 2.0)
        assert time.monotonic() - started < 2.0
        [got] = receiver.received
        assert got.json()["course_id"] == healthy.id
        # A second tick while the dead host's four hang: the dead hook is skipped.
        assert await courier.dispatch() == 0
        await asyncio.wait_for(dead.arrived.wait(), 2.0)
        await courier.drain()
        assert time.monotonic() - started >= 4.0  # the hanging ones ran to their time-out
        rows = await outbox(services)
        assert sum(r["delivered_at"] is not None for r in rows) == 1
        timed_out = [r for r in rows if r["attempts"] == 1 and r["delivered_at"] is None]
        assert len(timed_out) == 4
        assert all("Timeout" in str(r["last_error"]) for r in timed_out)
        assert sum(r["attempts"] == 0 for r in rows) == 2  # waiting their turn
        await courier.close()
    finally:
        await dead.stop()


class Rebinding:
    """A name server for `bot.webhook_sender.resolve`: each answer from `answers` in turn
    (the last one repeats), every question recorded."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[ipaddress.IPv4Address]:
        self.asked.append(host)
        answer = self.answers[min(len(self.asked), len(self.answers)) - 1]
        return [answer]  # type: ignore[list-item]


async def test_a_name_rebinding_to_loopback_reaches_nothing(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
) -> None:
    """DNS rebinding: the receiver's name answers a public address first and 127.0.0.1 after
    it. The connection goes to the one address checked (one question per connection), and
    the next connection's answer, 127.0.0.1, is refused: the receiver listening on loopback
    never gets a request."""
    await receiver.start()
    names = Rebinding("192.88.99.1", "127.0.0.1")  # a public address first (nothing there)
    monkeypatch.setattr(webhook_sender, "resolve", names)
    sender = HttpxWebhookSender()  # production: no private addresses
    url = f"http://rebind.example:{receiver.port}/hook"
    try:
        # Goes to the public address (whatever the network makes of it: here nothing answers).
        with contextlib.suppress(httpx.HTTPError, TimeoutError):
            await sender.post(url, b"{}", {}, 2.0)
        assert names.asked == ["rebind.example"]  # checked and connected on one answer
        with pytest.raises(WebhookRefused, match=r"127\.0\.0\.1"):
            await sender.post(url, b"{}", {}, 2.0)
        assert names.asked == ["rebind.example"] * 2
    finally:
        await sender.aclose()
    assert receiver.received == []


async def test_the_connection_goes_to_the_checked_address_under_the_name(
    monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
) -> None:
    """A name only our resolver knows (the system's has never heard of it) reaches the
    receiver at the address it answered, with the name in the Host header; the kept-alive
    connection serves the next delivery without asking again."""
    await receiver.start()
    names = Rebinding("127.0.0.1")
    monkeypatch.setattr(webhook_sender, "resolve", names)
    sender = HttpxWebhookSender(allow_private=True)
    url = f"http://hooks.attn-test.invalid:{receiver.port}/hook"
    try:
        assert await sender.post(url, b'{"n": 1}', {}, 5.0) == 200
        assert await sender.post(url, b'{"n": 2}', {}, 5.0) == 200
    finally:
        await sender.aclose()
    assert [r.json() for r in receiver.received] == [{"n": 1}, {"n": 2}]
    assert receiver.received[0].headers["host"] == f"hooks.attn-test.invalid:{receiver.port}"
    assert names.asked == ["hooks.attn-test.invalid"]
