"""Lifecycle of the project-managed server: start / status / stop, cache and data reuse."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from interestgraph.config import Settings
from interestgraph.errors import GraphUnavailableError, ServerStartError
from interestgraph.graphstore import GraphStore, LocalServer
from tests.conftest import free_port


def _jvms_for(root: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and f"--home-dir={root}".encode() in args:
            pids.append(int(proc.name))
    return pids


@pytest.fixture
def second_server(neo4j_server, tmp_path) -> LocalServer:
    """A second managed server in its own home (the session server keeps running)."""
    settings = Settings.from_env(
        {},
        home=tmp_path / "home",
        cache_dir=neo4j_server.settings.cache_dir,
        bolt_port=free_port(),
        http_port=free_port(),
        heap="512m",
        pagecache="128m",
        retry_seconds=1.0,
    )
    server = LocalServer(settings)
    yield server
    server.stop()


@pytest.mark.slow
def test_start_status_stop_round_trip_and_cached_restart(second_server, monkeypatch):
    server = second_server
    assert not server.status().running

    began = time.perf_counter()
    status = server.start()
    first_start = time.perf_counter() - began
    assert status.running and status.pid in _jvms_for(server.root)
    pw = Path(status.password_file)
    assert stat.S_IMODE(pw.stat().st_mode) == 0o600
    conf = (server.conf_dir / "neo4j.conf").read_text()
    assert f"server.bolt.listen_address=127.0.0.1:{server.settings.bolt_port}" in conf
    assert "dbms.security.auth_enabled=true" in conf
    assert server.start().pid == status.pid  # starting a running server is a no-op

    with GraphStore.from_settings(server.settings) as store:
        assert store.verify()["agent"].startswith("Neo4j/5.26")
        store.write("MERGE (:Topic {topic_id: 'kept', name: 'survives restarts'})")

    assert server.stop() is True
    assert _jvms_for(server.root) == []
    assert not server.status().running
    assert server.stop() is False

    with (
        GraphStore.from_settings(server.settings) as store,
        pytest.raises(GraphUnavailableError, match="interestgraph neo4j start"),
    ):
        store.read("RETURN 1")

    # Second start: no network tool needed (Maven hidden from PATH), data still there.
    monkeypatch.setenv("PATH", str(Path(shutil.which("java")).parent))
    began = time.perf_counter()
    server.start()
    cached_start = time.perf_counter() - began
    with GraphStore.from_settings(server.settings) as store:
        rows = store.read("MATCH (t:Topic {topic_id: 'kept'}) RETURN t.name AS name")
    assert rows == [{"name": "survives restarts"}]
    server.stop()
    assert _jvms_for(server.root) == []
    print(f"first start {first_start:.1f}s, cached start {cached_start:.1f}s")


def test_port_in_use_is_reported_with_the_setting_to_change(neo4j_server, tmp_path):
    taken = neo4j_server.settings.bolt_port
    settings = Settings.from_env({}, home=tmp_path, bolt_port=taken, http_port=free_port())
    with pytest.raises(ServerStartError, match="INTERESTGRAPH_BOLT_PORT"):
        LocalServer(settings).start()
    assert not (tmp_path / "neo4j" / "data" / "databases").exists()


def test_browser_is_served_on_the_http_port(neo4j_server):
    import urllib.request

    status = neo4j_server.status()
    assert status.browser_url is not None
    with urllib.request.urlopen(status.browser_url, timeout=10) as resp:
        body = resp.read().decode()
    assert resp.status == 200 and "<title>Neo4j Browser</title>" in body


def test_stale_pid_file_is_ignored(neo4j_server, tmp_path):
    settings = Settings.from_env({}, home=tmp_path, bolt_port=free_port(), http_port=free_port())
    server = LocalServer(settings)
    server.run_dir.mkdir(parents=True)
    server.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a Neo4j JVM
    assert not server.status().running
    assert server.stop() is False
