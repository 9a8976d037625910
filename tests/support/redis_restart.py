"""A standalone redis-server that a test can stop and start again on the same port and dir."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from storage.embedded.process import stop_child
from tests.support.redis_cluster import LocalRedisServer, _spawn_node, _wait_for_ping


class RestartableRedisServer(LocalRedisServer):
    """`LocalRedisServer` plus `stop_server()` (SIGTERM: Redis writes and fsyncs its append-only
    file on the way out) and `start_again()` (same port, same directory, so it reloads that
    file)."""

    def __init__(self, node_dir: Path, settings: list[str]) -> None:
        self.node_dir = node_dir
        self.settings = settings
        super().__init__(node_dir, settings)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop_server(self) -> None:
        if self._process is not None:
            stop_child(self._process, signal.SIGTERM, "test Redis")
            self._process = None

    def start_again(self) -> float:
        """Start on the same port and directory; returns how long loading took (seconds)."""
        assert self._process is None, "still running"
        began = time.monotonic()
        self._process = _spawn_node(self.node_dir, self.port, self.settings)
        _wait_for_ping(self.port, self._process, self.node_dir)
        return time.monotonic() - began
