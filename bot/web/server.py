"""`WebServer`: uvicorn serving the web app inside the bot's process and event loop.

python-telegram-bot's documented pattern for a custom webhook (`uvicorn.Server` run beside
the Application), with the stop split into the steps bot/runner.py orders: stop accepting,
let the updates in flight finish, then close what is still open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn

try:  # uvicorn's fast HTTP/1.1 parser (what uvicorn[standard] installs); h11 otherwise
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
except ImportError:  # pragma: no cover - a dependency, kept optional for odd platforms
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Protocol  # type: ignore[assignment]

from bot.context import AttnApplication
from bot.settings import Settings
from bot.web.app import create_web_app, front_door
from bot.web.state import Webhook, WebState

log = logging.getLogger(__name__)

# Longer than nginx's upstream keep-alive (60 s): the server never closes an idle connection
# the proxy is about to reuse (that race costs a 502).
KEEP_ALIVE_SECONDS = 75
# What `close` gives open responses (a server-sent event stream) before cancelling them.
CLOSE_GRACE_SECONDS = 0.5


class WebServer:
    """Serves the webhook (in webhook mode), the operational endpoints and the web features."""

    def __init__(
        self,
        application: AttnApplication,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        webhook: Webhook | None = None,
    ) -> None:
        self.application = application
        self.host = settings.listen_host if host is None else host
        self.port = settings.listen_port if port is None else port
        self.state = WebState()
        self.settings = settings
        self.app = create_web_app(application, settings, state=self.state, webhook=webhook)
        self._server: uvicorn.Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen (port 0 picks a free port; `self.port` is the real one afterwards).

        Args:
            sock: a socket already bound (tests that need the port before the app exists).
        """
        if sock is None:
            sock = _bind(self.host, self.port)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            front_door(self.app, self.settings),
            http=CorkedHttpProtocol,
            lifespan="off",  # the Application's own start and stop are the lifecycle
            log_config=None,  # the bot's logging (with secret redaction) is already set up
            access_log=False,  # bot.web.middleware.RequestLog logs without paths' secrets
            proxy_headers=False,  # client addresses as seen, never as a header claims
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            # Typed int by uvicorn, but handed to asyncio.timeout, which takes seconds as float.
            timeout_graceful_shutdown=CLOSE_GRACE_SECONDS,  # type: ignore[arg-type]
        )
        config.load()
        # uvicorn's access log shows query strings (a token may travel in one) and client
        # addresses; RequestLog logs what may be shown.
        logging.getLogger("uvicorn.access").disabled = True
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._server = server
        # Keeps the Date header current, as uvicorn's own main loop does.
        self._ticker = asyncio.create_task(server.main_loop(), name="attn-web-ticker")
        log.info("listening on %s:%d", self.host, self.port)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def closing(self) -> bool:
        return self.state.closing

    @closing.setter
    def closing(self, value: bool) -> None:
        """Tests set it to see a stopping server with its socket still open."""
        if value:
            self.state.stopping.set()
        else:
            self.state.stopping.clear()

    def stop_accepting(self) -> None:
        """Refuse new connections; webhook requests on open ones get 503 (Telegram retries)."""
        self.state.stopping.set()
        if self._server is not None:
            for listener in self._server.servers:
                listener.close()

    async def idle(self) -> None:
        """Return once no webhook update is being handled."""
        await self.state.idle()

    @property
    def in_flight(self) -> int:
        return self.state.in_flight

    async def close(self) -> None:
        """Close every connection still open (after `stop_accepting` and the drain)."""
        server, self._server = self._server, None
        if server is None:
            return
        self.state.stopping.set()
        server.should_exit = True
        try:
            await server.shutdown()
        finally:
            if self._ticker is not None:
                self._ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._ticker
                self._ticker = None


class CorkedTransport:
    """A connection's transport that sends what was written during one turn of the event
    loop in one call.

    uvicorn writes a response's status line and headers, then its body, as two writes: with
    TCP_NODELAY (see `_bind`) each is a system call and a packet of its own, and the client
    wakes twice. Held until the loop's next turn (microseconds), they leave as one. Everything
    else is the transport's own.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


class CorkedHttpProtocol(_Protocol):
    """uvicorn's HTTP/1.1 protocol on a `CorkedTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CorkedTransport(transport))  # type: ignore[arg-type]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    # protocol says TCP; without it Nagle holds the body behind the headers until the
    # client's delayed ACK, ~40 ms on every response (bench/web.py measured 25 Mini App
    # check-ins a second with 100 connections).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
