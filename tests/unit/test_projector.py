"""Projector links and what their pages are told: signed, tied to the session, revocable,
short-lived; one subscription per process; the scripts publish where the feed listens."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator
from dataclasses import replace
from importlib import resources

import pytest

from bot.container import Services
from services.clock import ManualClock
from services.errors import StorageUnavailable
from services.projector import LINK_MARGIN, ProjectorLinks, ProjectorService, ProjectorView
from storage.redis import keys
from tests.conftest import TEACHER_ID, TOKEN

BASE = "https://attn.example.edu"
STUDENT = 5150


def projector_of(
    services: Services, clock: ManualClock, public_url: str | None = BASE
) -> ProjectorService:
    return ProjectorService(
        sessions=services.live.sessions,
        checkins=services.live.checkins,
        projector=services.live.projector,
        clock=clock,
        secret=TOKEN.encode(),
        public_url=public_url,
    )


def token_of(link: str | None) -> str:
    assert link is not None
    match = re.fullmatch(rf"{BASE}/projector/([0-9a-f]{{12}})/([A-Za-z0-9_-]{{24}})", link)
    assert match, link
    return match[2]


async def test_a_link_opens_its_own_session_only_and_shows_no_one(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    first = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Optics")
    token = token_of(projector.link(first))
    view = await projector.view(first.id, token)
    assert view == ProjectorView(
        session_id=first.id,
        teacher_id=TEACHER_ID,
        course_name=None,
        title="Optics",
        code=first.code,
        checked_in=0,
        roster_size=None,
        ends_at=first.ends_at,
        ended=False,
        rotation_seconds=first.rotation_seconds,
    )
    await services.sessions.end_session(TEACHER_ID)
    other = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "Other")
    assert await projector.view(other.id, token) is None  # another session's token
    assert await projector.view(first.id, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await projector.view("0123456789ab", token) is None  # no such session
    # Another installation (another bot token) signs differently.
    assert ProjectorLinks(b"999:other").token(first.id, 0) != token


async def test_no_link_when_the_web_is_off(services: Services, clock: ManualClock) -> None:
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    projector = projector_of(services, clock, public_url=None)
    assert not projector.enabled
    assert projector.link(session) is None


async def test_a_new_link_revokes_the_old_one(services: Services, clock: ManualClock) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    old = token_of(projector.link(session))
    assert await projector.new_link(session)
    renewed = await services.live.sessions.session(session.id)
    assert renewed is not None and renewed.projector_generation == 1
    new = token_of(projector.link(renewed))
    assert new != old
    assert await projector.view(session.id, old) is None
    assert await projector.view(session.id, new) is not None


async def test_a_gone_session_gets_no_new_link_and_no_stray_key(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    gone = replace(session, id="abcdefabcdef")
    assert not await projector.new_link(gone)
    assert await services.live.sessions.session("abcdefabcdef") is None


async def test_the_page_says_ended_then_the_link_expires(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "T")
    token = token_of(projector.link(session))
    await services.checkins.check_in(STUDENT, session.code)
    clock.advance(minutes=10)
    view = await projector.view(session.id, token)
    assert view is not None and view.ended and view.code == "" and view.checked_in == 1
    clock.advance(seconds=LINK_MARGIN.total_seconds() - 1)
    assert await projector.view(session.id, token) is not None
    clock.advance(seconds=1)
    assert await projector.view(session.id, token) is None


async def test_an_extension_keeps_the_link_alive(services: Services, clock: ManualClock) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 10, "T")
    token = token_of(projector.link(session))
    await services.sessions.extend_session(TEACHER_ID, 30)
    clock.advance(minutes=10)
    clock.advance(seconds=LINK_MARGIN.total_seconds())
    view = await projector.view(session.id, token)
    assert view is not None and not view.ended


async def test_updates_follow_rotation_check_ins_and_the_end(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(
        TEACHER_ID, TEACHER_ID, 30, "T", rotation_seconds=10
    )
    token = token_of(projector.link(session))
    updates = projector.updates(session.id, token)
    first = await anext(updates)
    assert first is not None and first.code == session.code
    clock.advance(seconds=10)
    rotated = await services.rotation.rotate_due_codes()
    view = await asyncio.wait_for(anext(updates), 0.5)  # pushed, not polled (5 s)
    assert view is not None and view.code == rotated[session.id]
    await services.checkins.check_in(STUDENT, view.code)
    view = await asyncio.wait_for(anext(updates), 0.5)
    assert view is not None and view.checked_in == 1
    await services.sessions.end_session(TEACHER_ID)
    view = await asyncio.wait_for(anext(updates), 0.5)
    assert view is not None and view.ended
    with pytest.raises(StopAsyncIteration):
        await anext(updates)
    assert projector.feed.watching == 0


async def test_a_replaced_link_is_refused_on_open_pages(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    updates = projector.updates(session.id, token_of(projector.link(session)))
    assert await anext(updates) is not None
    await projector.new_link(session)
    assert await asyncio.wait_for(anext(updates), 0.5) is None
    with pytest.raises(StopAsyncIteration):
        await anext(updates)


async def test_many_pages_share_one_subscription(services: Services, clock: ManualClock) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    token = token_of(projector.link(session))
    pages = [projector.updates(session.id, token) for _ in range(5)]
    for page in pages:
        assert await anext(page) is not None
    redis = services.live.projector._redis  # type: ignore[attr-defined]
    await asyncio.sleep(0.05)
    assert await redis.pubsub_numsub(keys.live_channel()) == [(keys.live_channel().encode(), 1)]
    assert projector.feed.watching == 5
    for page in pages:
        await page.aclose()
    await asyncio.sleep(0.05)
    assert projector.feed.watching == 0
    assert await redis.pubsub_numsub(keys.live_channel()) == [(keys.live_channel().encode(), 0)]


class _Down:
    """A projector store whose live channel is down (and whose sessions are real)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.tries = 0

    async def new_projector_generation(self, session_id: str) -> int:
        return await self.real.new_projector_generation(session_id)  # type: ignore[attr-defined, no-any-return]

    async def changes(self) -> AsyncGenerator[str, None]:
        self.tries += 1
        raise StorageUnavailable("Redis")
        yield ""  # pragma: no cover - makes this an async generator


async def test_pages_poll_while_the_channel_is_down(services: Services, clock: ManualClock) -> None:
    down = _Down(services.live.projector)
    projector = ProjectorService(
        sessions=services.live.sessions,
        checkins=services.live.checkins,
        projector=down,
        clock=clock,
        secret=TOKEN.encode(),
        public_url=BASE,
    )
    session = await services.sessions.start_session(
        TEACHER_ID, TEACHER_ID, 30, "T", rotation_seconds=10
    )
    updates = projector.updates(session.id, token_of(projector.link(session)))
    assert await anext(updates) is not None
    clock.advance(seconds=10)
    rotated = await services.rotation.rotate_due_codes()
    view = await asyncio.wait_for(anext(updates), 2.0)  # the 1-second poll
    assert view is not None and view.code == rotated[session.id]
    assert not projector.feed.connected and down.tries >= 1
    await updates.aclose()


class _SwallowsOneCancel:
    """A live channel whose subscribing drops the first cancellation it receives, as
    Python 3.11's `asyncio.wait_for` does when the cancellation lands as the awaited send
    completes (redis-py sends through one); then it waits for messages that never come."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.subscribing = asyncio.Event()
        self.listening = 0

    async def new_projector_generation(self, session_id: str) -> int:
        return await self.real.new_projector_generation(session_id)  # type: ignore[attr-defined, no-any-return]

    async def changes(self) -> AsyncGenerator[str, None]:
        self.listening += 1
        try:
            self.subscribing.set()
            # The handshake's send: wait_for's result comes back, the cancellation is gone.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(60)
            nothing = asyncio.Event()
            while True:  # each read times out with nothing to yield
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(nothing.wait(), 0.05)
            yield ""  # pragma: no cover - makes this an async generator
        finally:
            self.listening -= 1


async def test_the_subscription_ends_even_when_a_cancellation_is_swallowed(
    services: Services, clock: ManualClock
) -> None:
    """The last page closes while the subscription connects and its cancellation is lost:
    the subscription still ends, soon, holding no connection; and a server that stops
    does not wait on one."""
    channel = _SwallowsOneCancel(services.live.projector)
    projector = ProjectorService(
        sessions=services.live.sessions,
        checkins=services.live.checkins,
        projector=channel,
        clock=clock,
        secret=TOKEN.encode(),
        public_url=BASE,
    )
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    token = token_of(projector.link(session))

    updates = projector.updates(session.id, token)
    assert await anext(updates) is not None
    await asyncio.wait_for(channel.subscribing.wait(), 1.0)
    await updates.aclose()  # the page leaves: the only one
    assert projector.feed.watching == 0
    await asyncio.sleep(0.2)
    assert channel.listening == 1  # the cancellation was swallowed...
    for _ in range(40):
        if channel.listening == 0:
            break
        await asyncio.sleep(0.05)
    assert channel.listening == 0  # ...and the subscription was told again

    # The same when the server stops with a page open.
    channel.subscribing.clear()
    updates = projector.updates(session.id, token)
    assert await anext(updates) is not None
    await asyncio.wait_for(channel.subscribing.wait(), 1.0)
    await asyncio.wait_for(projector.feed.close(), 2.0)
    assert channel.listening == 0
    await updates.aclose()


def test_every_script_publishes_on_the_live_channel() -> None:
    lua = resources.files("storage.redis").joinpath("lua")
    publishing = {}
    for entry in lua.iterdir():
        text = entry.read_text("utf-8")
        if "PUBLISH" in text:
            publishing[entry.name] = re.findall(r"'PUBLISH', '([^']+)'", text)
    assert set(publishing) == {
        "check_in.lua",
        "rotate_code.lua",
        "end_session.lua",
        "extend_session.lua",
        "new_projector_link.lua",
    }
    assert all(channels == [keys.live_channel()] for channels in publishing.values())


async def test_open_pages_let_go_when_the_server_stops(
    services: Services, clock: ManualClock
) -> None:
    projector = projector_of(services, clock)
    session = await services.sessions.start_session(TEACHER_ID, TEACHER_ID, 30, "T")
    stopping = asyncio.Event()
    updates = projector.updates(
        session.id, token_of(projector.link(session)), keep_alive=60, stopping=stopping
    )
    assert await anext(updates) is not None
    waiting = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0.05)
    stopping.set()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 0.5)  # not after the 5-second refresh
    assert projector.feed.watching == 0
