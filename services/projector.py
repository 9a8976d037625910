"""The projector page of a live session: who may open it, what it shows, and when it changes.

A projector link is `<public url>/projector/<session id>/<token>`, the token an HMAC of the
session id and the session's projector generation, keyed by a key derived from the bot token
(`ProjectorLinks`). It needs no storage of its own, and:

- it is tied to the session: another session's id does not match the token;
- it is short-lived: it works while the session is live and for `LINK_MARGIN` after its end
  (following extensions, since the end is read from the session), and never once the sweep
  has saved it;
- it is revocable: "New projector link" on the card raises the generation
  (`new_projector_link.lua`), so every link given out before stops working, and open pages
  are told at once and show the refusal;
- changing the bot token (BotFather's revoke) invalidates every link too.

The page shows no personal data: the course and session name, the code and its QR, the count,
the time left. What changes reaches it through `LiveFeed`: one subscription per process to the
channel the Lua scripts publish on, fanned out to every open page; while that is down, pages
read the state every `POLL_SECONDS` instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.clock import Clock
from services.errors import StorageUnavailable
from services.models import Session, SessionState
from services.ports import CheckInStore, LiveSessionStore, ProjectorStore

log = logging.getLogger(__name__)

#: How long after its session's end a projector link still opens (showing "ended").
LINK_MARGIN = timedelta(minutes=15)
#: How often an open page reads the state when the live channel is down.
POLL_SECONDS = 1.0
#: How often an open page reads the state anyway (a teacher's /mark changes the count
#: without a message; a message lost in a reconnect is made good).
REFRESH_SECONDS = 5.0
#: How long the feed waits before subscribing again after losing its connection.
RESUBSCRIBE_SECONDS = 1.0
#: How often a subscription told to stop is told again until it has (see `LiveFeed._retire`).
RECANCEL_SECONDS = 0.5

_TOKEN_BYTES = 18  # 144 bits, 24 characters of base64url


class ProjectorLinks:
    """Signs and checks projector tokens (no storage: the generation lives in the session)."""

    def __init__(self, secret: bytes) -> None:
        # A key of its own, derived from the secret: a projector token never reveals
        # anything about the bot token, and no other signature of ATTN can be replayed here.
        self._key = hmac.new(b"ATTN projector links", secret, hashlib.sha256).digest()

    def token(self, session_id: str, generation: int) -> str:
        message = f"{session_id}:{generation}".encode()
        mac = hmac.new(self._key, message, hashlib.sha256).digest()[:_TOKEN_BYTES]
        return base64.urlsafe_b64encode(mac).decode("ascii")

    def matches(self, session_id: str, generation: int, token: str) -> bool:
        """Constant-time: a wrong token tells nothing of the right one."""
        expected = self.token(session_id, generation).encode("ascii")
        return hmac.compare_digest(expected, token.encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class ProjectorView:
    """What a projector page shows (nothing personal: no names, no ids of people)."""

    session_id: str
    teacher_id: int  # for the page's language only; never shown
    course_name: str | None
    title: str
    code: str  # "" once ended
    checked_in: int
    roster_size: int | None  # None for a session without a roster
    ends_at: datetime
    ended: bool
    rotation_seconds: int


class LiveFeed:
    """One subscription to the live channel per process, fanned out to every open page.

    The subscription runs only while some page is open, so a process serving none holds no
    connection for it; however many pages are open, it holds one.
    """

    def __init__(self, events: ProjectorStore) -> None:
        self._events = events
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        # Subscriptions told to stop that have not ended yet: kept, so they are told again
        # and `close` waits for them (see `_retire`).
        self._retired: set[asyncio.Task[None]] = set()
        self.connected = False

    @contextlib.contextmanager
    def watch(self, session_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the session's live state may have changed (and when the
        subscription was (re)made, since messages may have been missed meanwhile)."""
        changed = asyncio.Event()
        self._watchers.setdefault(session_id, set()).add(changed)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            yield changed
        finally:
            watchers = self._watchers.get(session_id)
            if watchers is not None:
                watchers.discard(changed)
                if not watchers:
                    del self._watchers[session_id]
            if not self._watchers and self._task is not None:
                self._retire(self._task)
                self._task = None
                self.connected = False

    @property
    def watching(self) -> int:
        """How many pages are open in this process."""
        return sum(len(w) for w in self._watchers.values())

    async def _listen(self) -> None:
        while self._watchers:
            _stop_if_cancelled()
            try:
                changes = self._events.changes()
                try:
                    self.connected = True
                    self._wake_all()
                    async for session_id in changes:
                        for changed in self._watchers.get(session_id, ()):
                            changed.set()
                finally:
                    await changes.aclose()
            except StorageUnavailable:
                log.info("live channel lost; projector pages poll until it is back")
            except Exception:
                log.exception("live channel failed; projector pages poll until it is back")
            self.connected = False
            self._wake_all()
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    def _wake_all(self) -> None:
        for watchers in self._watchers.values():
            for changed in watchers:
                changed.set()

    def _retire(self, task: asyncio.Task[None]) -> None:
        """Cancel the subscription, and again every `RECANCEL_SECONDS` until it has ended.

        One cancellation is not always enough: on Python 3.11, `asyncio.wait_for` returns
        its result and drops the cancellation when it lands as the awaited call completes
        (CPython gh-86296; redis-py wraps every send in one, so a page closed while the
        subscription was connecting hits it). Such a subscription would then listen, and
        reconnect, for ever: a connection held with no page open, and a task that keeps
        the event loop from closing."""
        if task.done():
            return
        task.cancel()
        if task not in self._retired:
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)
        task.get_loop().call_later(RECANCEL_SECONDS, self._retire, task)

    async def close(self) -> None:
        """End the subscription and every one still stopping (the server is shutting down)."""
        if self._task is not None:
            self._retire(self._task)
            self._task = None
        while pending := {task for task in self._retired if not task.done()}:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
        self.connected = False


class ProjectorService:
    """Projector links of live sessions and what their pages show."""

    def __init__(
        self,
        *,
        sessions: LiveSessionStore,
        checkins: CheckInStore,
        projector: ProjectorStore,
        clock: Clock,
        secret: bytes,
        public_url: str | None,
    ) -> None:
        self._sessions = sessions
        self._checkins = checkins
        self._clock = clock
        self._links = ProjectorLinks(secret)
        self._public_url = public_url.rstrip("/") if public_url else None
        self._projector = projector
        self.feed = LiveFeed(projector)

    def now(self) -> datetime:
        """The services' clock (the page counts the time left from it)."""
        return self._clock.now()

    @property
    def enabled(self) -> bool:
        """The web features are on (a public URL is set): the card offers a projector link."""
        return self._public_url is not None

    def link(self, session: Session) -> str | None:
        """The session's current projector link; None when the web features are off."""
        if self._public_url is None:
            return None
        token = self._links.token(session.id, session.projector_generation)
        return f"{self._public_url}/projector/{session.id}/{token}"

    async def new_link(self, session: Session) -> bool:
        """Replace the session's projector links (the caller checked it is the teacher's):
        every link given out before stops working and its open pages show the refusal.
        False when the session is gone."""
        return await self._projector.new_projector_generation(session.id) > 0

    async def view(self, session_id: str, token: str) -> ProjectorView | None:
        """What the page of this link shows now; None when the link is refused (unknown
        session, wrong or replaced token, too long after the end)."""
        session = await self._sessions.session(session_id)
        if session is None or not self._links.matches(
            session.id, session.projector_generation, token
        ):
            return None
        now = self._clock.now()
        if now >= session.ends_at + LINK_MARGIN:
            return None
        ended = not session.is_open(now) or session.state is not SessionState.OPEN
        count = await self._checkins.checkin_count(session.id)
        return ProjectorView(
            session_id=session.id,
            teacher_id=session.teacher_id,
            course_name=session.course_name,
            title=session.title,
            code="" if ended else session.code,
            checked_in=count,
            roster_size=session.roster_size if session.has_roster else None,
            ends_at=session.ends_at,
            ended=ended,
            rotation_seconds=session.rotation_seconds,
        )

    async def updates(
        self,
        session_id: str,
        token: str,
        *,
        keep_alive: float = 15.0,
        stopping: asyncio.Event | None = None,
    ) -> AsyncGenerator[ProjectorView | None, None]:
        """What the page shows, each time it changes, until the session ended (its last
        view says so) or the link is refused (None, then the end). Yields the current
        view first. Between changes, yields the same view again every `keep_alive` seconds
        (the caller sends a heartbeat, so proxies keep the connection); ends as soon as
        `stopping` is set (the server is shutting down: the page reconnects by itself)."""
        with self.feed.watch(session_id) as changed:
            last: ProjectorView | None = None
            last_sent = 0.0
            while stopping is None or not stopping.is_set():
                _stop_if_cancelled()
                changed.clear()
                try:
                    view = await self.view(session_id, token)
                except StorageUnavailable:
                    view = last  # the page keeps what it shows; try again shortly
                    await asyncio.sleep(POLL_SECONDS)
                    if view is None:
                        continue
                if view is None:
                    yield None
                    return
                stale = time.monotonic() - last_sent >= keep_alive
                if view != last or stale:
                    yield view
                    last, last_sent = view, time.monotonic()
                if view.ended:
                    return
                wait = REFRESH_SECONDS if self.feed.connected else POLL_SECONDS
                until_end = (view.ends_at - self._clock.now()).total_seconds()
                wait = max(0.05, min(wait, until_end + 0.05, keep_alive))
                await _first_of(changed, stopping, wait)


def _stop_if_cancelled() -> None:
    """End the stream when its task is being cancelled, even if a wait or a Redis call on
    the way swallowed the cancellation (a cancelled read can surface as the store being
    unavailable, which the loop would otherwise retry for ever, holding up shutdown)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _first_of(changed: asyncio.Event, stopping: asyncio.Event | None, seconds: float) -> None:
    """Wait until `changed` or `stopping` is set, or `seconds` have passed."""
    if stopping is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), seconds)
        return
    waits = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(stopping.wait())}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
