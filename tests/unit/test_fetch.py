import os
import stat

import pytest

from interestgraph.errors import PrerequisiteError
from interestgraph.graphstore import fetch


def _fake_java(tmp_path, version_line: str):
    java = tmp_path / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return str(java)


def test_java_17_is_accepted(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    java = _fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    assert fetch.check_java(java) == (java, 17)


def test_old_java_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    java = _fake_java(tmp_path, 'java version "1.8.0_391"')
    with pytest.raises(PrerequisiteError, match=r"Java 8.*openjdk-17"):
        fetch.check_java(java)


def test_missing_java_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match=r"no Java runtime.*apt-get install openjdk-17"):
        fetch.check_java()


def test_missing_maven_on_first_use_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError, match="apt-get install maven"):
        fetch.fetch_server("5.26.30", tmp_path / "cache")


def test_cached_server_needs_no_maven(monkeypatch, tmp_path):
    folder = tmp_path / "neo4j" / "5.26.30"
    (folder / "lib").mkdir(parents=True)
    for name in ("neo4j-5.26.30.jar", "neo4j-browser-5.24.0.jar"):
        (folder / "lib" / name).write_bytes(b"")
    (folder / "manifest.json").write_text('{"version": "5.26.30", "jars": 2, "browser": true}')
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn anywhere
    dist = fetch.fetch_server("5.26.30", tmp_path)
    assert dist.jars == 2 and dist.browser and dist.lib_dir == folder / "lib"


def test_incomplete_cache_is_not_trusted(monkeypatch, tmp_path):
    folder = tmp_path / "neo4j" / "5.26.30"
    (folder / "lib").mkdir(parents=True)
    (folder / "manifest.json").write_text('{"version": "5.26.30", "jars": 5, "browser": true}')
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrerequisiteError):
        fetch.fetch_server("5.26.30", tmp_path)
    assert os.path.isdir(folder)


def _server_lib(tmp_path, names):
    lib = tmp_path / "neo4j" / "5.26.30" / "lib"
    lib.mkdir(parents=True)
    for name in names:
        (lib / name).write_bytes(b"")
    return fetch.ServerDistribution("5.26.30", lib, len(names), False)


def _fake_maven(monkeypatch, names):
    calls = []

    def copy(pom, staging, what):
        calls.append(pom.read_text())
        staging.mkdir(parents=True)
        for name in names:
            (staging / name).write_bytes(b"jar")

    monkeypatch.setattr(fetch, "_copy_dependencies", copy)
    return calls


def test_gds_keeps_only_the_jars_the_server_lacks_and_is_cached(monkeypatch, tmp_path):
    server = _server_lib(tmp_path, ["neo4j-5.26.30.jar", "jackson-core-2.18.6.jar"])
    calls = _fake_maven(
        monkeypatch,
        ["neo4j-5.26.30.jar", "jackson-core-2.18.6.jar", "proc-2.13.9.jar", "hppc-0.7.3.jar"],
    )
    gds = fetch.fetch_gds("2.13.9", server, tmp_path)
    assert sorted(p.name for p in gds.plugins_dir.iterdir()) == [
        "hppc-0.7.3.jar",
        "proc-2.13.9.jar",
    ]
    assert (
        gds.jars == 2 and gds.plugins_dir == tmp_path / "gds" / "2.13.9-neo4j-5.26.30" / "plugins"
    )
    # One pom resolves server and GDS together, so Maven mediates one version of each jar.
    assert "<artifactId>neo4j-server</artifactId>" in calls[0]
    assert "<artifactId>opengds-extension</artifactId>" in calls[0]
    assert not (gds.plugins_dir.parent / "all.partial").exists()
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn: the manifest answers
    again = fetch.fetch_gds("2.13.9", server, tmp_path, offline_only=True)
    assert again == gds and len(calls) == 1


def test_gds_that_changes_a_server_jar_is_refused_naming_the_settings(monkeypatch, tmp_path):
    server = _server_lib(tmp_path, ["neo4j-5.26.30.jar", "jackson-core-2.18.6.jar"])
    _fake_maven(monkeypatch, ["neo4j-5.26.30.jar", "jackson-core-2.19.0.jar", "proc-2.13.9.jar"])
    with pytest.raises(fetch.ServerFetchError, match=r"jackson-core-2\.18\.6\.jar") as err:
        fetch.fetch_gds("2.13.9", server, tmp_path)
    assert "INTERESTGRAPH_GDS_VERSION" in str(err.value) and "INTERESTGRAPH_GDS=off" in str(
        err.value
    )
    assert not (tmp_path / "gds" / "2.13.9-neo4j-5.26.30" / "plugins").exists()


def test_uses_gds_spots_gds_calls_only():
    from interestgraph.graphstore.gds import uses_gds

    assert uses_gds("CALL gds.louvain.stream('g') YIELD nodeId")
    assert uses_gds("RETURN gds.graph.project('g', a, b)")
    assert not uses_gds("MATCH (u:User {name: 'gdsx'}) RETURN u.gds_score")
