"""Failpoints for the fault-injection tests: the process kills itself (SIGKILL, no clean-up)
at a named point, so a test can show that a crash exactly there loses and duplicates nothing.

Armed only by `ATTN_FAILPOINT`, which production leaves empty.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

POINTS = ("sweep.committed", "sweep.removed", "summary.text", "summary.sent")


def failpoint(armed: str | None) -> Callable[[str], None] | None:
    """A checkpoint function that kills the process at `armed`, or None when nothing is."""
    if not armed:
        return None
    if armed not in POINTS:
        raise ValueError(f"unknown failpoint {armed!r}; known: {', '.join(POINTS)}")

    def checkpoint(name: str) -> None:
        if name == armed:
            log.warning("failpoint %s reached: killing this process", name)
            for handler in logging.getLogger().handlers:
                handler.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint
