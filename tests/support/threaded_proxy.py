"""`TcpProxy` on its own event loop in a background thread, for tests that drive a subprocess
synchronously (the bot is a child process, so nothing else needs the test's own loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from tests.support.tcp_proxy import TcpProxy

T = TypeVar("T")


class ThreadedTcpProxy:
    """Forwards a loopback port to the server of a Redis or PostgreSQL URL; `cut()` for a
    real outage (open connections reset, new ones refused), `restore()` to end it."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ThreadedTcpProxy", daemon=True
        )
        self._proxy = TcpProxy.for_url(url)
        self._started = False

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> ThreadedTcpProxy:
        self._thread.start()
        self._run(self._proxy.start())
        self._started = True
        return self

    @property
    def url(self) -> str:
        """The proxied URL: same server, through the proxy's TCP port."""
        return self._proxy.proxied_url(self._url)

    def cut(self) -> None:
        self._run(self._proxy.cut())

    def restore(self) -> None:
        self._run(self._proxy.restore())

    def close(self) -> None:
        if self._started:
            self._run(self._proxy.close())
            self._started = False
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> ThreadedTcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
