"""Who runs PostgreSQL and whether it can reach its files: as root the server runs as another
OS user, which must reach the data directory and be able to run the binaries."""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from storage.embedded.process import EmbeddedServerError

logger = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; as root we run it as this OS user (pgserver's choice, so a
# data directory pgserver created keeps working).
POSTGRES_OS_USER = "pgserver"


def postgres_os_user() -> pwd.struct_passwd | None:
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


def check_reachable(root: Path, user: pwd.struct_passwd) -> None:
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


def bin_reachable_by(bin_dir: Path, user: pwd.struct_passwd | None, root: Path) -> Path:
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


def chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chown(dirpath, user.pw_uid, user.pw_gid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid, follow_symlinks=False)
