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
