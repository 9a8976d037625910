"""Where a course's outgoing webhook may point (issue 16): the URL check when it is set
(https to a public host, no login; every notation of an internal address refused), the
address check the HTTP client makes at each connection (bot/webhook_sender.py), and the URL
as a message to the owner shows it."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from services.errors import InvalidArgument

#: Hosts a plain-http webhook may name when ATTN_WEBHOOK_ALLOW_PRIVATE is on (tests,
#: development): this machine only.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Names that only mean something inside a network: never a course's receiver in production.
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal")
MAX_URL_LENGTH = 2000


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


def address_allowed(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_private: bool
) -> bool:
    """A public address; with `allow_private`, loopback and private ones too (never
    unspecified, link-local — cloud metadata at 169.254.169.254 — or multicast)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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
