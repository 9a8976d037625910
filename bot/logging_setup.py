"""Logging that never shows a secret, whatever a library decides to print."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

REDACTED = "[redacted]"


def secret_forms(secret: str) -> set[str]:
    """Every form in which a configured secret may reach a log line.

    Why: a URL's password is also logged on its own (drivers print it decoded or
    percent-encoded), and a bot token's part after the colon is the secret part of it.
    """
    forms = {secret}
    if "://" in secret:
        with_password = urlsplit(secret)
        try:
            password = with_password.password
        except ValueError:
            password = None
        if password:
            forms |= {password, unquote(password), quote(unquote(password), safe="")}
    head, colon, tail = secret.partition(":")
    if colon and head.isdigit() and tail:  # a bot token: 123456:ABC...
        forms.add(tail)
    return {form for form in forms if form}


class RedactSecrets(logging.Filter):
    """Replaces every known secret in a log record's final text with a placeholder.

    Every non-empty secret is redacted, however short: a four-character database password
    is still a password. Longer forms go first, so a URL is replaced whole before its
    password is looked for inside what is left.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= secret_forms(secret)
        self._secrets = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class SkippedTickIsExpected(logging.Filter):
    """APScheduler's "skipped: maximum number of running instances reached" warning, said
    only of a job that has not finished for `QUIET_SECONDS`, at most every `REPEAT_SECONDS`.

    Why: every job runs one at a time and coalesces the ticks it outlasts (bot/jobs.py
    `schedule_jobs`), so a tick that finds its job still running is skipped by design: a
    summary waiting behind a burst for Telegram's pace logged a WARNING every second, which
    reads as a fault. A job that has not finished for minutes is one (a sweep stuck on a
    connection): that is still said, as "still running".
    """

    QUIET_SECONDS = 120.0
    REPEAT_SECONDS = 600.0

    def __init__(self) -> None:
        super().__init__()
        self._since: dict[str, float] = {}  # job -> when its run of skipped ticks began
        self._skipped: dict[str, float] = {}  # job -> its last skipped tick
        self._said: dict[str, float] = {}  # job -> when it was last said

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" not in record.getMessage():
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        name = str(getattr(job, "name", job))
        interval = getattr(getattr(job, "trigger", None), "interval", None)
        every = interval.total_seconds() if isinstance(interval, timedelta) else 0.0
        now = time.monotonic()
        if now - self._skipped.get(name, -math.inf) > 2 * every + 1:  # ran again meanwhile
            self._since[name] = now
            self._said.pop(name, None)
        self._skipped[name] = now
        running = now - self._since[name] + every  # (its first skipped tick: one interval on)
        if running < self.QUIET_SECONDS or now - self._said.get(name, -math.inf) < (
            self.REPEAT_SECONDS
        ):
            return False
        self._said[name] = now
        record.msg = "job %s still running after %.0f s: its next runs wait until it finishes"
        record.args = (name, running)
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`; secrets are redacted on the handler, so every logger is covered.

    httpx logs each request URL, which contains the bot token, at INFO: it is kept at WARNING,
    and the redaction filter is the second line of defence.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.filters[:] = [
        f for f in scheduler.filters if not isinstance(f, SkippedTickIsExpected)
    ]
    scheduler.addFilter(SkippedTickIsExpected())
