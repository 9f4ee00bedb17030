"""Shared fixtures: a real Neo4j 5 server for integration tests, started once per session.

The server is the project-managed local one (fetched from Maven Central, cached in the
user cache) in its own home ``.interestgraph-test/`` on free ports, wiped at the start of
each session and stopped at the end, even when tests fail (``scripts/dev.sh test`` also
stops it from a shell trap if pytest itself is killed).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from interestgraph.config import Settings
from interestgraph.errors import PrerequisiteError, ServerFetchError
from interestgraph.graphstore import GraphStore, LocalServer

ROOT = Path(__file__).resolve().parent.parent
TEST_HOME = ROOT / ".interestgraph-test"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as `integration`."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def server_settings() -> Settings:
    """Settings of the session's test server (own home, free ports, small memory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    return Settings.from_env(
        env,
        home=TEST_HOME,
        bolt_port=free_port(),
        http_port=free_port(),
        heap="1g",
        pagecache="512m",
    )


@pytest.fixture(scope="session")
def neo4j_server(server_settings: Settings) -> Iterator[LocalServer]:
    """A running local Neo4j server for the whole session."""
    server = LocalServer(server_settings)
    server.stop()
    shutil.rmtree(TEST_HOME, ignore_errors=True)
    try:
        server.start()
    except (PrerequisiteError, ServerFetchError) as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot start the real Neo4j server here: {e}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(neo4j_server: LocalServer) -> Iterator[GraphStore]:
    """An open store on an empty graph (constraints kept)."""
    with GraphStore.from_settings(neo4j_server.settings) as s:
        # Relationships first: DETACH DELETE of a dense node in one transaction can exceed
        # the transaction memory pool.
        s.write_autocommit(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS", op="test.wipe"
        )
        s.write_autocommit(
            "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS", op="test.wipe"
        )
        yield s
