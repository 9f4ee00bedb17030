"""Lifecycle of the project-managed server: start / status / stop, cache and data reuse."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from interestgraph.config import Settings
from interestgraph.errors import GdsMissingError, GraphUnavailableError, ServerStartError
from interestgraph.graphstore import GraphStore, LocalServer
from interestgraph.graphstore.gds import gds_version, require_gds
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
def second_server(neo4j_server, tmp_path, request) -> LocalServer:
    """A second managed server in its own home (the session server keeps running).

    Indirect parametrisation passes extra settings (e.g. ``{"gds": False}``).
    """
    settings = Settings.from_env(
        {},
        **getattr(request, "param", {}),
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
    # GDS is on by default: its own folder is the plugins folder and on the classpath.
    assert status.gds == server.settings.gds_version and status.gds_error is None
    plugins = server.settings.cache_dir / "gds" / f"{status.gds}-neo4j-{status.version}"
    assert f"server.directories.plugins={plugins / 'plugins'}" in conf
    assert "dbms.security.procedures.unrestricted=gds.*" in conf
    assert f"{plugins / 'plugins'}/*".encode() in Path(f"/proc/{status.pid}/cmdline").read_bytes()
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
        assert gds_version(store) == server.settings.gds_version  # GDS from the cache too
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


@pytest.mark.slow
@pytest.mark.parametrize("second_server", [{"gds": False}], indirect=True)
def test_a_password_that_starts_with_a_dash_is_set_as_a_password(second_server):
    # Stored passwords from before the generator avoided "-" must still work (picocli read
    # such a password as an option of `neo4j-admin dbms set-initial-password`).
    path = second_server.root / "password"
    path.parent.mkdir(parents=True)
    path.write_text("-Pe3looks_like_an_option\n")
    path.chmod(0o600)
    second_server.start()
    with GraphStore.from_settings(second_server.settings) as store:
        assert store.read("RETURN 1 AS one") == [{"one": 1}]


@pytest.mark.slow
@pytest.mark.parametrize("second_server", [{"gds": False}], indirect=True)
def test_gds_off_starts_without_it_and_gds_queries_name_the_setting(second_server):
    from interestgraph.queries import load_library, run_query

    status = second_server.start()
    assert status.running and status.gds is None and status.gds_error is None
    conf = (second_server.conf_dir / "neo4j.conf").read_text()
    assert "server.directories.plugins" not in conf and "gds.*" not in conf
    with GraphStore.from_settings(second_server.settings) as store:
        assert gds_version(store) is None
        with pytest.raises(GdsMissingError, match="INTERESTGRAPH_GDS=on"):
            run_query(store, load_library()["communities"], {}, settings=second_server.settings)
        external = Settings.from_env({}, neo4j_uri="bolt://db.example:7687", neo4j_password="x")
        with pytest.raises(GdsMissingError, match=r"NEO4J_PLUGINS=.*graph-data-science"):
            require_gds(store, "the test", external)


@pytest.mark.slow
@pytest.mark.parametrize("second_server", [{"gds_version": "2.99.0"}], indirect=True)
def test_gds_that_cannot_be_fetched_leaves_a_running_server_and_a_clear_reason(second_server):
    status = second_server.start()
    assert status.running and status.gds is None
    assert "INTERESTGRAPH_GDS=off" in status.gds_error
    assert "Graph Data Science 2.99.0" in status.gds_error and "Maven" in status.gds_error
    assert second_server.status().gds_error == status.gds_error  # kept for `neo4j status`
