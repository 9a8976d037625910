"""The HTTP client of the outgoing webhooks (services/webhooks.py): httpx, one pooled client
per process, no redirects followed (a receiver that moved says so with a 3xx: not
delivered), a whole-request time-out per delivery, and no request to an address inside the
deployment: the host is resolved first and refused when any of its addresses is not public
(unless ATTN_WEBHOOK_ALLOW_PRIVATE), so a name that points at 127.0.0.1 or the cloud's
metadata service gets nothing. (httpx resolves again when it connects, so a name that changes
its answer in between, DNS rebinding, is not stopped here.)"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from bot.web.api_models import webhook_body
from services.clock import Clock
from services.ports import RecordStores
from services.webhooks import WebhookCourier, address_allowed, ip_literal


class WebhookRefused(Exception):
    """The receiver's host is (or resolves to) an address inside the deployment: not sent.
    A delivery failure like a refused connection (tried again by the normal policy: the
    name may point elsewhere later), with the reason in its message."""


class HttpxWebhookSender:
    """`WebhookSender` over httpx; the client is made at the first delivery."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._client: httpx.AsyncClient | None = None
        self._allow_private = allow_private

    async def check_host(self, url: str) -> None:
        """Raise WebhookRefused when the URL's host has an address that is not public."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        literal = ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
        for address in addresses:
            if not address_allowed(address, allow_private=self._allow_private):
                raise WebhookRefused(f"{host} is a non-public address ({address}): not sent")

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # no proxy or netrc from the environment
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._client

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST and read the answer, all within `seconds` (a receiver that accepts and then
        says nothing, or trickles, is cut off too)."""
        async with asyncio.timeout(seconds):
            await self.check_host(url)
            response = await self._http().post(url, content=body, headers=headers, timeout=seconds)
        return response.status_code

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def webhook_courier_over(
    records: RecordStores, clock: Clock, timeout_seconds: float, allow_private: bool = False
) -> WebhookCourier:
    """The courier of the composition root: the records' outbox and API reads, httpx, and
    the API's JSON shapes."""
    return WebhookCourier(
        webhooks=records.webhooks,
        reads=records.api_reads,
        sender=HttpxWebhookSender(allow_private=allow_private),
        render=webhook_body,
        clock=clock,
        timeout_seconds=timeout_seconds,
    )
