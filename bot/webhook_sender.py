"""The HTTP client of the outgoing webhooks (services/webhooks.py): httpx, one pooled client
per process, no redirects followed (a receiver that moved says so with a 3xx: not
delivered), a whole-request time-out per delivery, and no request to an address inside the
deployment.

That check sits where the connection is made, not before it: every new connection resolves
the receiver's name once (`resolve`), refuses it when any of its addresses is not public
(unless ATTN_WEBHOOK_ALLOW_PRIVATE), and connects to one of exactly those addresses. The URL
keeps the name, so the Host header, TLS's SNI and the certificate check are the name's, and
pooled connections are kept per name. A name that answers with a public address to a check
and with 127.0.0.1 to the connection (DNS rebinding) has nothing to exploit: there is one
answer, and it is the one checked."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from bot.web.api_models import webhook_body
from services.clock import Clock
from services.ports import RecordStores
from services.webhooks import (
    WebhookCourier,
    WebhookRetry,
    WebhookSender,
    address_allowed,
    ip_literal,
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: How much of a receiver's answer is read (its status is what counts).
ANSWER_BYTES = 64 * 1024


class WebhookRefused(Exception):
    """The receiver's host is (or resolves to) an address inside the deployment: not sent.
    A delivery failure like a refused connection (tried again by the normal policy: the
    name may point elsewhere later), with the reason in its message."""


async def resolve(host: str, port: int) -> list[Address]:
    """The addresses of a name, as the system's resolver has them now."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


async def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[Address]:
    """Where a connection to `host` may go: its addresses, resolved once, each allowed.

    Raises:
        WebhookRefused: an address of the name is not public (all are refused then: a name
            that mixes a public address with 127.0.0.1 is not a receiver's).
    """
    host = host.rstrip(".")
    literal = ip_literal(host)
    addresses = [literal] if literal is not None else await resolve(host, port)
    if not addresses:
        raise WebhookRefused(f"{host} has no address: not sent")
    for address in addresses:
        if not address_allowed(address, allow_private=allow_private):
            raise WebhookRefused(f"{host} is a non-public address ({address}): not sent")
    return list(dict.fromkeys(addresses))


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network under the pool: each TCP connection goes to an address
    `checked_addresses` allowed, tried in the resolver's order."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, allow_private=self._allow_private)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise WebhookRefused("a webhook never goes to a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and error mapping) over a pool on `CheckedNetwork`.

    httpx has no parameter for the pool's network backend, so the pool it made is replaced
    by one like it (same limits, TLS context) with ours: tests/integration's rebinding test
    fails if a later httpx stops using `_pool`."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedNetwork(allow_private=allow_private),
        )


class HttpxWebhookSender:
    """`WebhookSender` over httpx; the client is made at the first delivery."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._client: httpx.AsyncClient | None = None
        self._allow_private = allow_private

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # no proxy or netrc from the environment
                transport=CheckedTransport(
                    allow_private=self._allow_private,
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                ),
            )
        return self._client

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST and read the answer, all within `seconds` (a receiver that accepts and then
        says nothing, or trickles, is cut off too). The status is the answer: of its body
        at most `ANSWER_BYTES` are read (a short one, as receivers send, keeps the
        connection for the next delivery; a longer one closes it), never a body without end
        held in memory."""
        async with asyncio.timeout(seconds):
            async with self._http().stream(
                "POST", url, content=body, headers=headers, timeout=seconds
            ) as response:
                kept = 0
                async for chunk in response.aiter_raw():
                    kept += len(chunk)
                    if kept > ANSWER_BYTES:
                        break
            return response.status_code

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def webhook_courier_over(
    records: RecordStores,
    clock: Clock,
    timeout_seconds: float,
    allow_private: bool = False,
    *,
    sender: WebhookSender | None = None,
    retry: WebhookRetry | None = None,
) -> WebhookCourier:
    """The courier of the composition root (and of the tests, with their receiver or back-off):
    the records' outbox and API reads, httpx unless another `sender`, the API's JSON shapes."""
    return WebhookCourier(
        webhooks=records.webhooks,
        reads=records.api_reads,
        sender=sender or HttpxWebhookSender(allow_private=allow_private),
        render=webhook_body,
        clock=clock,
        retry=retry,
        timeout_seconds=timeout_seconds,
    )
