"""The outgoing webhook of a course (issue 16, build point 2): on "session saved", a signed
POST to the URL its owner set, delivered through an outbox with back-off.

For the integration engineer (README, "Outgoing webhook"): each delivery is a POST of JSON
(the API's session and records representation) with the headers

* `X-ATTN-Event: session.saved` (or `ping`, from the bot's "send a test event"),
* `X-ATTN-Delivery: <id>` (the same id on every retry of one delivery: deduplicate on it),
* `X-ATTN-Timestamp: <unix seconds>` (when this attempt was signed),
* `X-ATTN-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.

Any 2xx answer is delivered; anything else (a status, a refused connection, no answer within
the time-out) is tried again later, with exponential back-off and jitter, for about a day.

Exactly once per saved session into the outbox: the rows are written in the sweep's own
transaction, unique per (session, hook). Delivery is at least once (a process that dies
after the POST and before recording it sends it again, with the same delivery id).

The course's owner is told (`WebhookService.tell_owners`: a private message through the
bot's paced broadcast lane, once, across processes) when a delivery is given up, and once
when a hook starts failing (a delivery failed `FAILING_AFTER` attempts in a row; told again
only after a delivery went through).

Nothing waits for a slow receiver: each delivery runs as a task of its own with a time-out
(well inside the row's lease), at most `per_host` at once to one host; a claim takes at most
that many rows of a hook and skips the hooks of a host that has its share in flight, so a
dead receiver's backlog never takes the places of other courses' deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import random
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from services.clock import Clock
from services.errors import InvalidArgument, StorageUnavailable
from services.ports import ApiReadRecords, WebhookRecords
from services.ports.api import ApiRecordRow, ApiSessionRow
from services.ports.webhooks import CourseWebhook, WebhookDelivery
from services.webhook_signing import delivery_headers

log = logging.getLogger(__name__)

SESSION_SAVED = "session.saved"
PING = "ping"
#: Hosts a plain-http webhook may name when ATTN_WEBHOOK_ALLOW_PRIVATE is on (tests,
#: development): this machine only.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Names that only mean something inside a network: never a course's receiver in production.
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal")
MAX_URL_LENGTH = 2000
#: The records of a session are read in pages of this many.
RECORD_PAGE = 500
#: A delivery failing this many attempts in a row (about 7 minutes with the default back-off)
#: tells the owner that the hook is failing; retries go on for about a day.
FAILING_AFTER = 5


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in every form a resolver takes for one
    (127.0.0.1, ::1, and the shorthand 0x7f000001, 2130706433, 127.1, 0177.0.0.1); else None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


_CARRIERS = tuple(map(ipaddress.IPv6Network, ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")))


def _carried(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address in NAT64's prefixes or an IPv4-compatible ::a.b.c.d, else itself."""
    if int(address) > 1 and any(address in net for net in _CARRIERS):  # not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_allowed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_private: bool
) -> bool:
    """A public address; with `allow_private`, loopback and private ones too (never
    unspecified, link-local — cloud metadata at 169.254.169.254 — or multicast)."""
    if isinstance(address, ipaddress.IPv6Address):  # one carrying an IPv4 address: that one
        address = address.ipv4_mapped or address.sixtofour or _carried(address)
    if address.is_global:
        return True
    if not allow_private:
        return False
    unsafe = address.is_unspecified or address.is_link_local or address.is_multicast
    return (address.is_loopback or address.is_private) and not unsafe


def check_webhook_url(url: str, *, allow_private: bool = False) -> str:
    """The URL as stored: https to a public host, no login in it. Addresses inside the
    deployment (loopback, private, link-local, `localhost`, `*.internal` …) are refused, as
    they would let a course owner make the bot call its own Redis or the cloud's metadata
    service; `allow_private` (ATTN_WEBHOOK_ALLOW_PRIVATE, tests and development) lets
    loopback and private addresses through, and plain http to this machine.

    Raises:
        InvalidArgument("webhook_url", "not_https" | "too_long" | "internal").
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidArgument("webhook_url", "too_long")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidArgument("webhook_url", "not_https") from exc
    local = allow_private and parts.scheme == "http" and host in LOCAL_HOSTS
    if (parts.scheme != "https" and not local) or not host or parts.username or parts.password:
        raise InvalidArgument("webhook_url", "not_https")
    if any(c.isspace() for c in url) or "@" in parts.netloc:
        raise InvalidArgument("webhook_url", "not_https")
    host = host.rstrip(".")
    address = ip_literal(host)
    if address is not None:
        if not address_allowed(address, allow_private=allow_private):
            raise InvalidArgument("webhook_url", "internal")
    elif not allow_private and (host == "localhost" or host.endswith(INTERNAL_SUFFIXES)):
        raise InvalidArgument("webhook_url", "internal")
    return url


@dataclass(frozen=True, slots=True)
class SessionSaved:
    """The event a delivery carries: the saved session and its records, as the API has them."""

    delivery_id: int
    course_id: int
    session: ApiSessionRow
    records: list[ApiRecordRow]


@dataclass(frozen=True, slots=True)
class Ping:
    """The test event the owner sends from the bot."""

    course_id: int
    sent_at: datetime


class WebhookSender(Protocol):
    """An HTTP client (the bot layer's, over httpx): POST, and the answer's status.

    Raises whatever the client raises on a refused connection or a time-out.
    """

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST `body`; give up (raise) after `seconds` without a whole answer."""
        ...


def shown_url(url: str) -> str:
    """The URL as a notice shows it: scheme, host, port and path; never a login, a query
    (receivers put tokens there) or a fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


#: Turns an event into the JSON body (the bot layer's, so it matches the API's models).
Render = Callable[[SessionSaved | Ping], bytes]


@dataclass(frozen=True, slots=True)
class WebhookRetry:
    """Back-off per delivery: 30 s, 1 min, 2 min … capped at 1 h, each ±20 % (so receivers
    that come back are not hit by every sender at once); 30 attempts, about a day."""

    max_attempts: int = 30
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        delay = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        if self.jitter:
            delay *= (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return delay


@dataclass
class WebhookReport:
    """What the deliveries of one run did (for the logs and tests)."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class WebhookCourier:
    """Delivers due webhook rows, each as a task of its own (see the module's docstring)."""

    def __init__(
        self,
        *,
        webhooks: WebhookRecords,
        reads: ApiReadRecords,
        sender: WebhookSender,
        render: Render,
        clock: Clock,
        retry: WebhookRetry | None = None,
        timeout_seconds: float = 10.0,
        lease_seconds: float = 60.0,
        in_flight: int = 100,
        per_host: int = 4,
        rng: random.Random | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._reads = reads
        self._sender = sender
        self._render = render
        self._clock = clock
        self._retry = retry or WebhookRetry()
        self.timeout_seconds = timeout_seconds
        self._lease_seconds = lease_seconds
        self._in_flight = in_flight
        self._per_host = per_host
        self._rng = rng
        self._tasks: dict[int, asyncio.Task[None]] = {}  # delivery id -> its task
        self._host_load: Counter[str] = Counter()  # host -> deliveries to it in flight
        self._hook_hosts: dict[int, str] = {}  # hook id -> its host, as last seen
        self.report = WebhookReport()

    async def dispatch(self) -> int:
        """Claim the due deliveries there is room for and start each; returns how many.

        Room: at most `in_flight` deliveries in all, `per_host` to one host. Hooks on a host
        that has its share in flight are skipped by the claim (once this process has seen
        them there), so a hanging receiver's backlog never takes other courses' places.
        """
        room = self._in_flight - len(self._tasks)
        if room <= 0:
            return 0
        full = {host for host, n in self._host_load.items() if n >= self._per_host}
        claimed = await self._webhooks.claim_webhook_deliveries(
            self._clock.now(),
            self._lease_seconds,
            room,
            per_hook=self._per_host,
            skip_hooks=[hook for hook, host in self._hook_hosts.items() if host in full],
        )
        started = 0
        for delivery in claimed:
            host = (urlsplit(delivery.url).hostname or "").lower()
            self._hook_hosts[delivery.hook_id] = host
            if delivery.id in self._tasks or self._host_load[host] >= self._per_host:
                # The host has its share in flight: this row waits for a later claim.
                await self._webhooks.release_webhook(delivery.id)
                continue
            self._host_load[host] += 1
            task = asyncio.get_running_loop().create_task(self._deliver(delivery))
            self._tasks[delivery.id] = task
            task.add_done_callback(functools.partial(self._forget, delivery.id, host))
            started += 1
        return started

    def _forget(self, delivery_id: int, host: str, _: object) -> None:
        self._tasks.pop(delivery_id, None)
        self._host_load[host] -= 1
        if self._host_load[host] <= 0:
            del self._host_load[host]

    async def deliver(self) -> WebhookReport:
        """Dispatch, then wait for everything in flight (tests, `attn` one-shot runs)."""
        await self.dispatch()
        await self.drain()
        return self.report

    async def drain(self) -> None:
        """Wait for the deliveries in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        """Stop the deliveries in flight (their leases run out; another run sends them)."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        closing = getattr(self._sender, "aclose", None)
        if closing is not None:
            await closing()

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        try:
            await self._attempt(delivery)
        except StorageUnavailable:
            log.warning("webhook delivery %s postponed: PostgreSQL unavailable", delivery.id)
        except Exception as exc:  # a task of its own: nothing above it would log this
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
            at = self._clock.now() + timedelta(seconds=self._retry.delay(delivery.attempts))
            with contextlib.suppress(StorageUnavailable):
                await self._webhooks.postpone_webhook(
                    delivery.id, at, None, f"internal error: {type(exc).__name__}"
                )

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        session = await self._reads.course_session(delivery.course_id, delivery.session_id)
        if session is None:  # moved to another course, or deleted meanwhile
            await self._webhooks.give_up_webhook(
                delivery.id, self._clock.now(), None, "the session is no longer the course's"
            )
            self.report.failed += 1
            return
        records = await self._records(delivery.course_id, delivery.session_id)
        body = self._render(SessionSaved(delivery.id, delivery.course_id, session, records))
        status: int | None = None
        error: str
        headers = delivery_headers(
            delivery.event, str(delivery.id), delivery.secret, self._clock.now(), body
        )
        try:
            status = await self._sender.post(delivery.url, body, headers, self.timeout_seconds)
        except Exception as exc:  # refused, reset, timed out, TLS: the receiver's side
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            # Stored, shown in /webhook and told to the owner: never the URL's query.
            error = error.replace(delivery.url, shown_url(delivery.url))
        else:
            error = f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            await self._webhooks.mark_webhook_delivered(delivery.id, self._clock.now(), status)
            self.report.delivered += 1
            return
        self.report.errors[error] += 1
        if delivery.attempts >= self._retry.max_attempts:
            await self._webhooks.give_up_webhook(
                delivery.id,
                self._clock.now(),
                status,
                f"gave up after {delivery.attempts}: {error}",
                tell_owner=True,
            )
            self.report.failed += 1
            log.warning("webhook delivery %s failed for good: %s", delivery.id, error)
            return
        delay = self._retry.delay(delivery.attempts, self._rng)
        at = self._clock.now() + timedelta(seconds=delay)
        await self._webhooks.postpone_webhook(delivery.id, at, status, error)
        if delivery.attempts == FAILING_AFTER:
            await self._webhooks.note_hook_failing(delivery.id, self._clock.now(), error)
        self.report.retried += 1
        log.info(
            "webhook delivery %s: %s (attempt %d); next in %.0f s",
            delivery.id,
            error,
            delivery.attempts,
            delay,
        )

    async def _records(self, course_id: int, session_id: str) -> list[ApiRecordRow]:
        records: list[ApiRecordRow] = []
        while True:
            after = None
            if records:
                last = records[-1]
                after = (last.session_started_at, last.session_id, last.student_id)
            page = await self._reads.record_page(
                course_id, session_id=session_id, after=after, limit=RECORD_PAGE
            )
            records.extend(page)
            if len(page) < RECORD_PAGE:
                return records

    async def ping(self, hook: CourseWebhook) -> int | str:
        """Send the test event now (no outbox): the receiver's status, or what went wrong."""
        now = self._clock.now()
        body = self._render(Ping(hook.course_id, now))
        headers = delivery_headers(PING, f"ping-{secrets.token_hex(6)}", hook.secret, now, body)
        try:
            return await self._sender.post(hook.url, body, headers, self.timeout_seconds)
        except Exception as exc:
            return type(exc).__name__
