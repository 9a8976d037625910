"""The lifecycle both embedded servers share: a private data directory, an exclusive lock on
it while a server runs, one server per directory in this process, a clean stop at exit."""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import signal
import stat
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from storage.embedded.process import EmbeddedServerError, is_exiting, stop_child

logger = logging.getLogger(__name__)


def prepare_data_dir(root: Path) -> None:
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


def make_private(directory: Path) -> None:
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


_registry_lock = threading.Lock()
_active: dict[Path, ChildServer] = {}


class DirLock:
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


def claim(key: Path, lock_path: Path, name: str) -> DirLock:
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
    return DirLock(lock_path)


class ChildServer:
    """Lifecycle shared by both servers: a child process, a directory lock, a clean stop."""

    _NAME: ClassVar[str]
    _STOP_SIGNAL: ClassVar[signal.Signals]

    def __init__(
        self, *, url: str, process: subprocess.Popen[bytes], lock: DirLock, key: Path
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
        return self._process.poll() is None and not is_exiting(self._process.pid)

    def stop(self) -> None:
        """Shut the server down cleanly (data flushed) and release the directory; idempotent."""
        with self._stop_guard:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        try:
            stop_child(self._process, self._STOP_SIGNAL, self._NAME)
        finally:
            self._lock.release()
            with _registry_lock:
                if _active.get(self._key) is self:
                    del _active[self._key]

    def __enter__(self) -> ChildServer:
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
