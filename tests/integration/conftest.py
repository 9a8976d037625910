"""Integration fixtures: a local three-master Redis Cluster, started once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_cluster import start_local_cluster


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """redis://127.0.0.1:<port> of one node of a fresh cluster on loopback ports."""
    cluster = start_local_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster.url
    finally:
        cluster.stop()
