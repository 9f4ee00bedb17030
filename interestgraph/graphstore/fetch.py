"""Obtain the Neo4j 5 community server from Maven Central with the machine's Maven.

Neo4j publishes no server tarball on Maven Central, but it publishes every jar the
server is made of. We resolve ``org.neo4j:neo4j`` (kernel, Cypher, the
``CommunityEntryPoint`` launcher class and ``neo4j-admin``), ``org.neo4j.app:neo4j-server``
(HTTP server, Bolt) and ``org.neo4j.client:neo4j-browser`` (the Browser web app) with
``mvn dependency:copy-dependencies`` into a versioned folder of the user cache. A finished
fetch writes a manifest; later starts find it and need no network.

The open Graph Data Science library is fetched the same way into its own folder and
manifest (:func:`fetch_gds`). Maven Central has no single GDS plugin jar, only its ~110
module jars (``org.neo4j.gds:proc`` aggregates them) and their third-party libraries. They
are resolved in one pom together with the server, so Maven mediates one version of every
jar both need; the folder keeps only the jars the server's lib does not already hold.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from interestgraph.config import NEO4J_BROWSER_VERSION
from interestgraph.errors import PrerequisiteError, ServerFetchError

__all__ = ["GdsDistribution", "ServerDistribution", "check_java", "fetch_gds", "fetch_server"]

log = logging.getLogger(__name__)

_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_JAVA_HINT = (
    "install a Java 17 or 21 JDK (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`) or set JAVA_HOME, or point NEO4J_URI at a running server"
)
_MAVEN_HINT = (
    "install Apache Maven 3.6+ (Debian/Ubuntu: `apt-get install maven`; macOS: "
    "`brew install maven`), or point NEO4J_URI at a running server"
)


def _pom(artifact_id: str, version: str, deps: list[tuple[str, str, str]]) -> str:
    """A packaging-``pom`` project whose only content is ``deps`` (group, artifact, version)."""
    body = "".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>\n"
        for g, a, v in deps
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        f"  <groupId>io.interestgraph</groupId><artifactId>{artifact_id}</artifactId>\n"
        f"  <version>{version}</version><packaging>pom</packaging>\n"
        f"  <dependencies>\n{body}  </dependencies>\n</project>\n"
    )


def _server_deps(version: str) -> list[tuple[str, str, str]]:
    """The server's artifacts: kernel + launcher, HTTP/Bolt server, Browser."""
    return [
        ("org.neo4j", "neo4j", version),
        ("org.neo4j.app", "neo4j-server", version),
        ("org.neo4j.client", "neo4j-browser", NEO4J_BROWSER_VERSION),
    ]


def _gds_deps(gds: str) -> list[tuple[str, str, str]]:
    """The open GDS edition: the procedure aggregator, its extension, its write services."""
    return [("org.neo4j.gds", a, gds) for a in ("proc", "opengds-extension", "open-write-services")]


@dataclass(frozen=True)
class GdsDistribution:
    """A fetched Graph Data Science library: the jars the server's lib does not hold."""

    version: str
    plugins_dir: Path
    jars: int


@dataclass(frozen=True)
class ServerDistribution:
    """A fetched server: the folder of jars and what it contains."""

    version: str
    lib_dir: Path
    jars: int
    browser: bool


def check_java(java: str | None = None) -> tuple[str, int]:
    """Find a Java 17+ runtime.

    Args:
        java: Explicit path; default ``$JAVA_HOME/bin/java`` then ``java`` on ``PATH``.

    Returns:
        (path to the ``java`` executable, major version).

    Raises:
        PrerequisiteError: No Java, or one older than 17.
    """
    import os

    candidates = [java] if java else []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    found = shutil.which("java")
    if found:
        candidates.append(found)
    for cand in candidates:
        if not cand or not Path(cand).exists():
            continue
        out = subprocess.run([cand, "-version"], capture_output=True, text=True, timeout=60)
        match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
        if not match:
            continue
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8" style
            major = int(match.group(2))
        if major >= 17:
            return cand, major
        raise PrerequisiteError(
            f"Neo4j 5 needs Java 17 or newer, but {cand} is Java {major}; {_JAVA_HINT}."
        )
    raise PrerequisiteError(f"no Java runtime found (java not on PATH); {_JAVA_HINT}.")


def _check_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise PrerequisiteError(
            "Maven (mvn) is needed once, to fetch the Neo4j server from Maven Central, "
            f"and is not on PATH; {_MAVEN_HINT}."
        )
    return mvn


def _read_manifest(folder: Path) -> ServerDistribution | None:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    lib = folder / "lib"
    if not lib.is_dir() or len(list(lib.glob("*.jar"))) != data["jars"]:
        return None
    return ServerDistribution(data["version"], lib, data["jars"], data["browser"])


def fetch_server(
    version: str, cache_dir: Path, *, offline_only: bool = False
) -> ServerDistribution:
    """Return the cached server for ``version``, fetching it with Maven on first use.

    Safe to call concurrently (a file lock serialises fetches of the same cache).

    Args:
        version: Neo4j version, e.g. ``"5.26.30"``.
        cache_dir: The user cache (``Settings.cache_dir``).
        offline_only: Never call Maven; fail if the server is not cached.

    Raises:
        PrerequisiteError: Maven is missing and the server is not cached yet.
        ServerFetchError: Maven failed (its output tail is in the message).
    """
    folder = Path(cache_dir) / "neo4j" / version
    cached = _read_manifest(folder)
    if cached is not None:
        return cached
    if offline_only:
        raise ServerFetchError(f"Neo4j {version} is not in the cache {folder}.")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read_manifest(folder)  # another process may have finished meanwhile
        if cached is not None:
            return cached
        (folder / "pom.xml").write_text(_pom("neo4j-server-fetch", version, _server_deps(version)))
        staging = folder / "lib.partial"
        log.info("fetching Neo4j %s from Maven Central (once; cached in %s)", version, folder)
        start = time.perf_counter()
        _copy_dependencies(folder / "pom.xml", staging, f"Neo4j {version}")
        jars = sorted(staging.glob("*.jar"))
        if not any(j.name == f"neo4j-{version}.jar" for j in jars):
            raise ServerFetchError(
                f"Maven finished but neo4j-{version}.jar is missing in {staging}."
            )
        lib = folder / "lib"
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        browser = any(j.name.startswith("neo4j-browser-") for j in jars)
        (folder / "manifest.json").write_text(
            json.dumps(
                {
                    "version": version,
                    "jars": len(jars),
                    "browser": browser,
                    "fetched_seconds": round(time.perf_counter() - start, 1),
                },
                indent=2,
            )
        )
        log.info("fetched %d jars in %.1fs", len(jars), time.perf_counter() - start)
        return ServerDistribution(version, lib, len(jars), browser)


def _copy_dependencies(pom: Path, staging: Path, what: str) -> None:
    """Resolve ``pom``'s runtime dependencies into ``staging`` with Maven."""
    mvn = _check_maven()
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        f"{_DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired as e:
        raise ServerFetchError(
            f"Maven did not finish fetching {what} within 30 minutes; check the "
            "network access to Maven Central (or a mirror in ~/.m2/settings.xml)."
        ) from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ServerFetchError(
            f"Maven could not fetch {what} (exit {proc.returncode}). Check the "
            "network access to Maven Central (or a mirror in ~/.m2/settings.xml) and that "
            f"the version exists. Command: {' '.join(cmd)}\n{tail}"
        )


def _read_gds_manifest(folder: Path) -> GdsDistribution | None:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    plugins = folder / "plugins"
    if not plugins.is_dir() or len(list(plugins.glob("*.jar"))) != data["jars"]:
        return None
    return GdsDistribution(data["gds_version"], plugins, data["jars"])


def fetch_gds(
    gds_version: str,
    server: ServerDistribution,
    cache_dir: Path,
    *,
    offline_only: bool = False,
) -> GdsDistribution:
    """Return the cached Graph Data Science jars for ``server``, fetching them on first use.

    The folder ``cache_dir/gds/<gds>-neo4j-<version>/plugins`` holds only the jars that are
    not in ``server.lib_dir``; the server needs them both as its plugins folder (procedures
    are found by scanning it) and on its classpath (GDS's extension factory is found there).

    Args:
        gds_version: e.g. ``"2.13.9"``.
        server: The fetched server these jars go with.
        cache_dir: The user cache (``Settings.cache_dir``).
        offline_only: Never call Maven; fail if the library is not cached.

    Raises:
        PrerequisiteError: Maven is missing and the library is not cached yet.
        ServerFetchError: Maven failed, or GDS needs another version of a server jar.
    """
    folder = Path(cache_dir) / "gds" / f"{gds_version}-neo4j-{server.version}"
    cached = _read_gds_manifest(folder)
    if cached is not None:
        return cached
    if offline_only:
        raise ServerFetchError(f"Graph Data Science {gds_version} is not in the cache {folder}.")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read_gds_manifest(folder)
        if cached is not None:
            return cached
        pom = folder / "pom.xml"
        deps = _server_deps(server.version) + _gds_deps(gds_version)
        pom.write_text(_pom("neo4j-gds-fetch", gds_version, deps))
        staging = folder / "all.partial"
        what = f"Graph Data Science {gds_version} for Neo4j {server.version}"
        log.info("fetching %s from Maven Central (once; cached in %s)", what, folder)
        start = time.perf_counter()
        _copy_dependencies(pom, staging, what)
        resolved = {j.name for j in staging.glob("*.jar")}
        server_jars = {j.name for j in server.lib_dir.glob("*.jar")}
        changed = sorted(server_jars - resolved)
        if changed:
            shutil.rmtree(staging, ignore_errors=True)
            raise ServerFetchError(
                f"{what} needs other versions of jars the server ships ({', '.join(changed[:5])}"
                f"{' …' if len(changed) > 5 else ''}); pick the GDS version made for this Neo4j "
                "(INTERESTGRAPH_GDS_VERSION; 2.13.x for 5.26) or set INTERESTGRAPH_GDS=off."
            )
        extra = sorted(resolved - server_jars)
        if not any(name.startswith("proc-") or name.startswith("opengds-extension-")
                   for name in extra):  # fmt: skip
            shutil.rmtree(staging, ignore_errors=True)
            raise ServerFetchError(f"Maven finished but the GDS jars of {what} are missing.")
        plugins = folder / "plugins"
        shutil.rmtree(plugins, ignore_errors=True)
        plugins.mkdir()
        for name in extra:
            (staging / name).rename(plugins / name)
        shutil.rmtree(staging, ignore_errors=True)
        size = sum(p.stat().st_size for p in plugins.glob("*.jar"))
        (folder / "manifest.json").write_text(
            json.dumps(
                {
                    "gds_version": gds_version,
                    "neo4j_version": server.version,
                    "jars": len(extra),
                    "bytes": size,
                    "fetched_seconds": round(time.perf_counter() - start, 1),
                },
                indent=2,
            )
        )
        log.info("fetched %d GDS jars (%.1f MB) in %.1fs", len(extra), size / 1e6,
                 time.perf_counter() - start)  # fmt: skip
        return GdsDistribution(gds_version, plugins, len(extra))
