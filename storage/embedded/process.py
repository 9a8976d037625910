"""One supervised child process: spawned in its own session with a parent-death signal, found
again through /proc after a crash, stopped cleanly (or killed) on the way out.

Why: a SIGKILLed bot cannot stop its servers, and an orphaned server would hold the data
directory. Linux only: leftover servers are found through /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0
# Orphaned backends of a killed postmaster exit on their own within a second or so.
ORPHAN_TIMEOUT = 5.0
# sun_path holds 108 bytes on Linux; stay well below it.
MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1
# Files the servers create are their owner's only (Redis's append-only file, logs).
PRIVATE_UMASK = 0o077


class EmbeddedServerError(RuntimeError):
    """The embedded servers cannot start as configured; the message is one line with the fix.

    Why a type of its own: `attn` prints it as it is, without a traceback.
    """


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# Loaded before any fork: a preexec_fn should not have to load libraries.
_LIBC = _load_libc()


def child_setup(death_signal: signal.Signals) -> Callable[[], None]:
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


def is_exiting(pid: int) -> bool:
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


def stop_leftovers(exe_name: str, workdir: Path, stop_signal: signal.Signals) -> None:
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


def stop_child(process: subprocess.Popen[bytes], stop_signal: signal.Signals, name: str) -> None:
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


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - 8192))
            text = fh.read().decode(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def spawn(
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
            preexec_fn=child_setup(death_signal),
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
