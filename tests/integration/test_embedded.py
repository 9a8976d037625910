"""The embedded servers keep their data across clean restarts and across crashes.

Real redis-server and postgres processes; each test uses its own tmp_path. The server
management is synchronous (as in the bot's startup), the client calls run in asyncio.run.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio

from storage.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    EmbeddedServerError,
    start_embedded_postgres,
    start_embedded_redis,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="embedded servers are Linux-only")

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _redis_set(url: str, key: str, value: str, *, fsync_always: bool = False) -> None:
    client = redis.asyncio.from_url(url)
    try:
        if fsync_always:  # acknowledged == on disk, so a SIGKILL right after cannot lose it
            await client.config_set("appendfsync", "always")
        assert await client.set(key, value) is True
    finally:
        await client.aclose()


async def _redis_get(url: str, key: str) -> bytes | None:
    client = redis.asyncio.from_url(url)
    try:
        value = await client.get(key)
        assert value is None or isinstance(value, bytes)
        return value
    finally:
        await client.aclose()


async def _redis_eviction_policy(url: str) -> str:
    client = redis.asyncio.from_url(url, decode_responses=True)
    try:
        config = await client.config_get("maxmemory-policy")
        return str(config["maxmemory-policy"])
    finally:
        await client.aclose()


async def _pg_execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_fetch_names(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT name FROM marks ORDER BY name")
        return [row["name"] for row in rows]
    finally:
        await conn.close()


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_dead(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_redis_data_survives_restart(tmp_path: Path) -> None:
    first = start_embedded_redis(tmp_path)
    try:
        asyncio.run(_redis_set(first.url, "attn:k", "v1"))
    finally:
        first.stop()
    first.stop()  # idempotent
    assert not _pid_alive(first.pid)

    second = start_embedded_redis(tmp_path)
    try:
        assert asyncio.run(_redis_get(second.url, "attn:k")) == b"v1"
        assert asyncio.run(_redis_eviction_policy(second.url)) == "noeviction"
    finally:
        second.stop()


def test_redis_recovers_after_sigkill(tmp_path: Path) -> None:
    first = start_embedded_redis(tmp_path)
    asyncio.run(_redis_set(first.url, "attn:acked", "yes", fsync_always=True))
    os.kill(first.pid, signal.SIGKILL)
    assert _wait_dead(first.pid)
    # The old handle is neither stopped nor reaped; its pid file and socket are left behind.
    assert (first.redis_dir / "redis.pid").exists()
    second = start_embedded_redis(tmp_path)
    try:
        assert second.pid != first.pid
        assert asyncio.run(_redis_get(second.url, "attn:acked")) == b"yes"
    finally:
        second.stop()
        first.stop()


def test_redis_falls_back_to_tcp_for_long_paths(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = start_embedded_redis(deep)
    try:
        assert server.url.startswith("redis://")
        assert "@127.0.0.1:" in server.url
        asyncio.run(_redis_set(server.url, "attn:tcp", "ok"))
        assert asyncio.run(_redis_get(server.url, "attn:tcp")) == b"ok"
    finally:
        server.stop()


def test_second_start_in_same_process_is_refused(tmp_path: Path) -> None:
    server = start_embedded_redis(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="already running"):
            start_embedded_redis(tmp_path)
    finally:
        server.stop()


def test_postgres_data_survives_restart(tmp_path: Path) -> None:
    first = start_embedded_postgres(tmp_path)
    try:
        asyncio.run(
            _pg_execute(
                first.url,
                "CREATE TABLE marks (name text PRIMARY KEY)",
                "INSERT INTO marks VALUES ('ada')",
            )
        )
    finally:
        first.stop()
    first.stop()  # idempotent
    assert not (first.pgdata / "postmaster.pid").exists()

    second = start_embedded_postgres(tmp_path)
    try:
        assert second.url.startswith("postgresql://postgres@/attn?host=")
        assert asyncio.run(_pg_fetch_names(second.url)) == ["ada"]
    finally:
        second.stop()


def test_postgres_recovers_after_sigkill_and_reused_pid(tmp_path: Path) -> None:
    first = start_embedded_postgres(tmp_path)
    asyncio.run(
        _pg_execute(
            first.url,
            "CREATE TABLE marks (name text PRIMARY KEY)",
            "INSERT INTO marks VALUES ('grace')",
        )
    )
    os.kill(first.pid, signal.SIGKILL)
    assert _wait_dead(first.pid)
    # Worst case for the stale postmaster.pid: its pid now belongs to an unrelated live process.
    pid_file = first.pgdata / "postmaster.pid"
    assert pid_file.exists()
    with subprocess.Popen(["sleep", "60"]) as squatter:
        try:
            lines = pid_file.read_text().splitlines()
            pid_file.write_text("\n".join([str(squatter.pid), *lines[1:]]) + "\n")
            second = start_embedded_postgres(tmp_path)
            try:
                assert asyncio.run(_pg_fetch_names(second.url)) == ["grace"]
            finally:
                second.stop()
        finally:
            squatter.kill()
    first.stop()


_BOT_SCRIPT = """
import json, sys, time
from pathlib import Path
import storage.embedded as embedded
import storage.embedded.process as process
if sys.argv[2] == "no-pdeathsig":  # simulate a platform without PR_SET_PDEATHSIG
    process.child_setup = lambda sig: (lambda: None)
data = Path(sys.argv[1])
r = embedded.start_embedded_redis(data)
p = embedded.start_embedded_postgres(data)
print(json.dumps({"redis_url": r.url, "redis_pid": r.pid, "pg_url": p.url, "pg_pid": p.pid}),
      flush=True)
time.sleep(600)
"""


def _run_bot_and_sigkill(data_dir: Path, mode: str) -> dict[str, Any]:
    """Start both servers in a separate 'bot' process, use them, then SIGKILL that process."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", _BOT_SCRIPT, str(data_dir), mode],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
    ) as bot:
        assert bot.stdout is not None
        info: dict[str, Any] = json.loads(bot.stdout.readline())
        asyncio.run(_redis_set(info["redis_url"], "attn:bot", "alive", fsync_always=True))
        asyncio.run(
            _pg_execute(
                info["pg_url"],
                "CREATE TABLE marks (name text PRIMARY KEY)",
                "INSERT INTO marks VALUES ('linus')",
            )
        )
        bot.kill()
    return info


def _check_restart_keeps_data(data_dir: Path) -> None:
    redis_server: EmbeddedRedis = start_embedded_redis(data_dir)
    try:
        assert asyncio.run(_redis_get(redis_server.url, "attn:bot")) == b"alive"
    finally:
        redis_server.stop()
    pg_server: EmbeddedPostgres = start_embedded_postgres(data_dir)
    try:
        assert asyncio.run(_pg_fetch_names(pg_server.url)) == ["linus"]
    finally:
        pg_server.stop()


def test_servers_die_with_a_sigkilled_bot(tmp_path: Path) -> None:
    info = _run_bot_and_sigkill(tmp_path, "normal")
    assert _wait_dead(info["redis_pid"]), "redis-server outlived the SIGKILLed bot"
    assert _wait_dead(info["pg_pid"]), "postgres outlived the SIGKILLed bot"
    _check_restart_keeps_data(tmp_path)


def test_restart_stops_servers_left_running_by_a_dead_bot(tmp_path: Path) -> None:
    info = _run_bot_and_sigkill(tmp_path, "no-pdeathsig")
    time.sleep(0.5)
    assert _pid_alive(info["redis_pid"]) and _pid_alive(info["pg_pid"])
    _check_restart_keeps_data(tmp_path)
    assert not _pid_alive(info["redis_pid"]) and not _pid_alive(info["pg_pid"])


def test_postgres_socket_moves_out_of_long_data_dirs(tmp_path: Path) -> None:
    deep = tmp_path / ("p" * 60) / ("q" * 60)
    server = start_embedded_postgres(deep)
    try:
        assert server.socket_dir != server.pgdata
        assert len(str(server.socket_dir)) < 100
        asyncio.run(
            _pg_execute(
                server.url,
                "CREATE TABLE marks (name text PRIMARY KEY)",
                "INSERT INTO marks VALUES ('edsger')",
            )
        )
        assert asyncio.run(_pg_fetch_names(server.url)) == ["edsger"]
    finally:
        server.stop()
    assert not server.socket_dir.exists()


# --------------------------------------------------------------------------------------------
# Permissions: nothing trusted in /tmp, nothing changed outside the data directory, private files

as_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the postgres OS user and chown need root (CI runs as root)"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes_above(path: Path) -> dict[Path, int]:
    return {ancestor: _mode(ancestor) for ancestor in path.parents}


def test_data_and_logs_are_private_and_nothing_above_changes(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    above = _modes_above(tmp_path)
    redis_server = start_embedded_redis(data)
    pg_server = start_embedded_postgres(data)
    try:
        asyncio.run(_redis_set(redis_server.url, "attn:k", "v", fsync_always=True))
        asyncio.run(_pg_execute(pg_server.url, "CREATE TABLE marks (name text PRIMARY KEY)"))
        # Searchable (not listable) by the postgres OS user when we are root; ours otherwise.
        assert _mode(data) == (0o711 if os.geteuid() == 0 else 0o700)
        assert _mode(data / "postgres.log") == 0o600
        assert _mode(pg_server.pgdata) == 0o700
        assert _mode(redis_server.redis_dir) == 0o700
        files = [p for p in redis_server.redis_dir.rglob("*") if p.is_file() and not p.is_socket()]
        assert {p.name for p in files} >= {"redis.log", "redis.conf"}
        for path in files:
            assert _mode(path) & 0o077 == 0, (path, oct(_mode(path)))
    finally:
        pg_server.stop()
        redis_server.stop()
    assert _modes_above(tmp_path) == above


def test_an_operators_data_dir_is_closed_to_writers_and_old_files_made_private(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)
    (data / "postgres.log").write_text("an older log, readable by all\n")
    (data / "postgres.log").chmod(0o644)
    (data / "redis").mkdir(mode=0o755)
    (data / "redis" / "redis.log").write_text("an older log\n")
    (data / "redis" / "redis.log").chmod(0o644)
    above = _modes_above(data)
    redis_server = start_embedded_redis(data)
    pg_server = start_embedded_postgres(data)
    pg_server.stop()
    redis_server.stop()
    assert _mode(data) == 0o755  # listing left as the operator chose; nobody else writes
    assert _mode(data / "postgres.log") == 0o600
    assert "an older log" in (data / "postgres.log").read_text()
    assert _mode(data / "redis") == 0o700 and _mode(data / "redis" / "redis.log") == 0o600
    assert _modes_above(data) == above


_START_PG = """
import json, os, sys
from pathlib import Path
import storage.embedded as embedded
server = embedded.start_embedded_postgres(Path(sys.argv[1]))
try:
    exe = os.readlink(f"/proc/{server.pid}/exe")
    print(json.dumps({"exe": exe, "url": server.url}), flush=True)
finally:
    server.stop()
"""


def _pgserver_package() -> Path:
    spec = importlib.util.find_spec("pgserver")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def _plant(directory: Path, marker: Path) -> None:
    """A fake PostgreSQL install whose every program leaves `marker` behind when run."""
    bin_dir = directory / "pgserver" / "pginstall" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("postgres", "initdb", "psql", "createdb", "pg_ctl"):
        program = bin_dir / name
        program.write_text(f"#!/bin/sh\necho {name} >> {marker}\nexit 1\n")
        program.chmod(0o755)
    nobody = pwd.getpwnam("nobody")
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)


@as_root
def test_a_planted_pginstall_in_tmp_is_never_run(tmp_path: Path) -> None:
    # pgserver as seen from a virtualenv below a 0700 folder (like /root): out of the postgres
    # OS user's reach, so the binaries must be copied somewhere it can run them.
    private = tmp_path / "private-site"
    private.mkdir(mode=0o700)
    package = _pgserver_package()
    (private / "pgserver").symlink_to(package)
    libs = package.parent / "pgserver.libs"
    if libs.is_dir():
        (private / "pgserver.libs").symlink_to(libs)
    install = private / "pgserver" / "pginstall"
    # Where a local user would plant binaries: the name the copy had in /tmp before.
    stamp = f"{install}:{(install / 'bin' / 'postgres').stat().st_mtime_ns}"
    digest = hashlib.sha1(stamp.encode(), usedforsecurity=False).hexdigest()[:12]
    planted = Path(tempfile.gettempdir()) / f"attn-pginstall-{digest}"
    markers = Path(tempfile.mkdtemp(prefix="attn-marker-"))
    markers.chmod(0o777)
    marker = markers / "planted-binary-ran"
    try:
        _plant(planted, marker)
        data = tmp_path / "data"
        env = {**os.environ, "PYTHONPATH": f"{private}:{REPO_ROOT}"}
        result = subprocess.run(
            [sys.executable, "-c", _START_PG, str(data)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert not marker.exists(), "planted programs ran: " + marker.read_text()
        assert result.returncode == 0, result.stderr[-3000:]
        info = json.loads(result.stdout.splitlines()[-1])
        # The server ran from a copy inside the data directory, made and checked by us.
        exe = Path(info["exe"])
        assert exe.is_relative_to(data), exe
        copy = data / exe.relative_to(data).parts[0]
        assert copy.stat().st_uid == 0 and _mode(copy) & 0o022 == 0
        assert planted.stat().st_uid == pwd.getpwnam("nobody").pw_uid  # left alone
        assert not [p for p in Path(tempfile.gettempdir()).glob("attn-pginstall-*") if p != planted]
    finally:
        shutil.rmtree(planted, ignore_errors=True)
        shutil.rmtree(markers, ignore_errors=True)


@as_root
def test_a_copy_in_the_data_dir_that_is_not_ours_is_replaced(tmp_path: Path) -> None:
    private = tmp_path / "private-site"
    private.mkdir(mode=0o700)
    package = _pgserver_package()
    (private / "pgserver").symlink_to(package)
    libs = package.parent / "pgserver.libs"
    if libs.is_dir():
        (private / "pgserver.libs").symlink_to(libs)
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": f"{private}:{REPO_ROOT}"}
    run = [sys.executable, "-c", _START_PG, str(data)]
    first = subprocess.run(run, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    copy = data / Path(json.loads(first.stdout.splitlines()[-1])["exe"]).relative_to(data).parts[0]
    # Someone swaps a program of the copy for their own and hands it to another user.
    marker = tmp_path / "swapped-binary-ran"
    psql = copy / "pgserver" / "pginstall" / "bin" / "psql"
    psql.unlink()
    psql.write_text(f"#!/bin/sh\necho psql >> {marker}\nexit 1\n")
    psql.chmod(0o777)
    second = subprocess.run(
        run, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert "is not a copy made by us" in second.stderr
    assert not marker.exists()
    assert _mode(psql) & 0o022 == 0


@as_root
def test_an_unreachable_data_dir_is_refused_in_one_line(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_")}
    env.update(ATTN_BOT_TOKEN="1:x", ATTN_DATA_DIR=str(closed / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "INFO" not in line]
    assert lines == [
        f"The embedded PostgreSQL runs as OS user 'pgserver', which cannot reach "
        f"ATTN_DATA_DIR {closed / 'data'} ({closed} is not searchable by it): set ATTN_DATA_DIR "
        f"to a directory it can reach (e.g. /var/lib/attn), or run `chmod o+x {closed}`, or run "
        "attn as a non-root user, or set ATTN_DATABASE_URL"
    ]
    assert _mode(closed) == 0o700  # not widened


@as_root
def test_a_planted_socket_folder_in_tmp_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / ("s" * 60) / ("t" * 60)
    first = start_embedded_postgres(deep)
    socket_dir = first.socket_dir
    first.stop()
    assert not socket_dir.exists() and socket_dir.parent == Path(tempfile.gettempdir())
    socket_dir.mkdir()  # someone else's folder under the name we would use
    socket_dir.chmod(0o777)
    nobody = pwd.getpwnam("nobody")
    os.chown(socket_dir, nobody.pw_uid, nobody.pw_gid)
    try:
        with pytest.raises(EmbeddedServerError, match="is not a directory of ours"):
            start_embedded_postgres(deep)
        assert list(socket_dir.iterdir()) == []  # no socket of ours put there
        assert socket_dir.stat().st_uid == nobody.pw_uid and _mode(socket_dir) == 0o777
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


@as_root
def test_binaries_installed_closed_to_others_are_run_from_a_copy(tmp_path: Path) -> None:
    # A virtualenv installed with umask 077: its folders are searchable here, its files not.
    site = tmp_path / "umask-077-site"
    site.mkdir()
    package = _pgserver_package()
    shutil.copytree(package / "pginstall", site / "pgserver" / "pginstall", symlinks=True)
    (site / "pgserver" / "__init__.py").write_text("")
    libs = package.parent / "pgserver.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / "pgserver.libs", symlinks=True)
    for path in site.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o700 if path.stat().st_mode & stat.S_IXUSR else 0o600)
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": f"{site}:{REPO_ROOT}"}
    result = subprocess.run(
        [sys.executable, "-c", _START_PG, str(data)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    exe = Path(json.loads(result.stdout.splitlines()[-1])["exe"])
    assert exe.is_relative_to(data) and _mode(exe) == 0o755
