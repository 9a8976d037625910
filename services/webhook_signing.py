"""What a webhook delivery carries (issue 16): its signing secret, the headers of each
attempt and their HMAC signature, and the check a receiver makes (README, "Outgoing
webhook"; services/webhooks.py sends them)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime


def new_signing_secret() -> str:
    """256 random bits, printable."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`X-ATTN-Signature`: "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


def delivery_headers(
    event: str, delivery: str, secret: str, now: datetime, body: bytes
) -> dict[str, str]:
    """The headers of one attempt, signed now."""
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "ATTN-Webhook/1",
        "X-ATTN-Event": event,
        "X-ATTN-Delivery": delivery,
        "X-ATTN-Timestamp": timestamp,
        "X-ATTN-Signature": signature(secret, timestamp, body),
    }
