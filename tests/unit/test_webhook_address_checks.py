"""Outgoing webhooks stay outside the deployment (issue 16): the URL check in every address
notation, ATTN_WEBHOOK_ALLOW_PRIVATE for tests, and the send-time check of what a name
resolves to."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import webhook_sender
from bot.webhook_sender import HttpxWebhookSender, WebhookRefused, checked_addresses
from services.errors import InvalidArgument
from services.webhooks import check_webhook_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/",
        "https://0177.0.0.1/",
        "https://0/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fd00::1]/",
        "https://172.16.0.1/",
        "https://100.64.0.1/",
        "https://localhost./",
        "https://printer.local/",
        "https://metadata.google.internal/",
        "https://a.localhost/",
    ],
)
def test_more_internal_forms_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_webhook_url(url)
    assert (refused.value.field, refused.value.problem) == ("webhook_url", "internal")


@pytest.mark.parametrize(
    "url", ["https://lms.example.org/attn", "https://93.184.216.34/hook", "https://[2606:4700::1]/"]
)
def test_public_addresses_are_kept(url: str) -> None:
    assert check_webhook_url(url) == url


def test_login_and_plain_http_are_refused() -> None:
    for url in ("https://user@lms.example.org/", "http://lms.example.org/", "ftp://x.org/"):
        with pytest.raises(InvalidArgument):
            check_webhook_url(url)


def test_allow_private_lets_this_machine_through_but_not_metadata() -> None:
    for url in ("http://127.0.0.1:8080/h", "http://localhost:9/", "https://10.0.0.1/"):
        assert check_webhook_url(url, allow_private=True) == url
    with pytest.raises(InvalidArgument):
        check_webhook_url("https://169.254.169.254/", allow_private=True)
    with pytest.raises(InvalidArgument):
        check_webhook_url("http://10.0.0.1/", allow_private=True)


def resolving_to(address: str) -> Any:
    async def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(address)]

    return resolve


async def test_a_name_resolving_inside_is_refused_at_send_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A public-looking name that points at 127.0.0.1 passes the URL check, but nothing is
    sent: the sender raises (the courier records it as a failed attempt)."""
    url = "https://hooks.example.org:6379/"
    assert check_webhook_url(url) == url
    monkeypatch.setattr(webhook_sender, "resolve", resolving_to("127.0.0.1"))
    sender = HttpxWebhookSender()
    with pytest.raises(WebhookRefused, match=r"hooks\.example\.org .*127\.0\.0\.1"):
        await sender.post(url, b"{}", {}, 5.0)
    await sender.aclose()
    # Tests' receivers, with ATTN_WEBHOOK_ALLOW_PRIVATE.
    allowed = await checked_addresses("hooks.example.org", 6379, allow_private=True)
    assert allowed == [ipaddress.ip_address("127.0.0.1")]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 (RFC 6052) of 169.254.169.254, the cloud's metadata
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5: a NAT64 gateway reaches the private network
        "64:ff9b:1::a00:5",  # the local-use NAT64 prefix (RFC 8215)
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::7f00:1",  # IPv4-compatible ::127.0.0.1
    ],
)
def test_an_ipv6_address_carrying_an_internal_ipv4_one_is_refused(address: str) -> None:
    # Each was `is_global` to Python's ipaddress, so the URL check and the connect-time
    # check both let it through.
    with pytest.raises(InvalidArgument) as refused:
        check_webhook_url(f"https://[{address}]/")
    assert refused.value.problem == "internal"


def test_an_ipv6_address_carrying_a_public_ipv4_one_is_kept() -> None:
    assert check_webhook_url("https://[64:ff9b::5db8:d822]/") == "https://[64:ff9b::5db8:d822]/"


@contextlib.asynccontextmanager
async def _answering(head: bytes, *, endless_body: bool) -> AsyncIterator[str]:
    """A receiver's URL: it reads the request, sends `head`, then (if asked) a body that
    never ends, 64 KB every few milliseconds, until the connection is closed."""
    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            while endless_body:
                writer.write(b"x" * 65536)
                await writer.drain()
                await asyncio.sleep(0.005)
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def test_the_receivers_answer_is_its_status_not_its_body() -> None:
    """A receiver (the course owner's server) that says 200 and then sends a body without
    end: the delivery is done at the status line. Reading the body whole kept the bot's
    memory growing for the whole time-out, then called a delivered webhook a failure."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n"
    sender = HttpxWebhookSender(allow_private=True)
    async with _answering(head, endless_body=True) as url:
        started = asyncio.get_running_loop().time()
        try:
            assert await sender.post(url, b"{}", {}, 3.0) == 200
        finally:
            await sender.aclose()
        assert asyncio.get_running_loop().time() - started < 2.0


async def test_a_redirect_to_an_internal_address_is_not_followed() -> None:
    head = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/\r\n"
    sender = HttpxWebhookSender(allow_private=True)
    async with _answering(head + b"Content-Length: 0\r\n\r\n", endless_body=False) as url:
        try:
            assert await sender.post(url, b"{}", {}, 3.0) == 307
        finally:
            await sender.aclose()
