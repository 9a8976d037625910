"""The embedded PostgreSQL: pgserver's bundled binaries run directly, reachable by unix socket only.

Why not pgserver's own `get_server`: it trusts any live pid in `postmaster.pid`, keeps a pid
list that goes stale after a SIGKILL, and starts a daemon through `pg_ctl`, which cannot carry
a parent-death signal.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from storage.embedded.postgres_access import (
    bin_reachable_by,
    check_reachable,
    chown_tree,
    postgres_os_user,
)
from storage.embedded.process import (
    MAX_SOCKET_PATH,
    EmbeddedServerError,
    log_tail,
    spawn,
    stop_child,
    stop_leftovers,
)
from storage.embedded.supervisor import ChildServer, DirLock, claim, prepare_data_dir

logger = logging.getLogger(__name__)

POSTGRES_START_TIMEOUT = 60.0  # crash recovery after a SIGKILL replays WAL first
POSTGRES_SUPERUSER = "postgres"
DEFAULT_DATABASE = "attn"
# Only the socket file's name: the server listens on no TCP port at all.
POSTGRES_SOCKET_PORT = 5432


class EmbeddedPostgres(ChildServer):
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
        lock: DirLock,
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
    if len(str(pgdata / f".s.PGSQL.{POSTGRES_SOCKET_PORT}")) < MAX_SOCKET_PATH:
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
                f"log tail ({log_path}):\n{log_tail(log_path)}"
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
                f"log tail ({log_path}):\n{log_tail(log_path)}"
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
    prepare_data_dir(root)
    pgdata = root / "postgres"
    lock = claim(pgdata, root / "postgres.lock", "PostgreSQL")
    try:
        user = postgres_os_user()
        if user is not None:
            check_reachable(root, user)
        bin_dir = bin_reachable_by(_postgres_bin(), user, root)
        if not (pgdata / "PG_VERSION").is_file():
            _initdb(bin_dir, pgdata, user)
        if user is not None and pgdata.stat().st_uid != user.pw_uid:
            logger.warning("giving %s to OS user %r", pgdata, user.pw_name)
            chown_tree(pgdata, user)
        pgdata.chmod(0o700)
        stop_leftovers("postgres", pgdata, signal.SIGINT)
        socket_dir = _postgres_socket_dir(pgdata, user)
        _remove_stale_postgres_files(pgdata, socket_dir)
        log_path = root / "postgres.log"
        process = spawn(
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
            stop_child(process, signal.SIGINT, "PostgreSQL")
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
