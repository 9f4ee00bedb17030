"""The embedded default: a real Neo4j 5 community server that the project manages itself.

The server's jars come from Maven Central (:mod:`interestgraph.graphstore.fetch`); this
module is the "tiny launcher": it writes ``neo4j.conf`` into a project-owned home, sets
the generated password with Neo4j's own ``neo4j-admin dbms set-initial-password``
(``org.neo4j.cli.AdminTool``) before the first start, runs
``org.neo4j.server.CommunityEntryPoint`` (the class behind ``bin/neo4j console``) as a
detached JVM with a PID file, waits until Bolt answers a query, and stops it with SIGTERM
(Neo4j's clean shutdown), escalating to SIGKILL only after a timeout.

Layout of ``<home>/neo4j/``::

    conf/neo4j.conf   generated on every start from the settings
    data/             databases and transaction logs (survive restarts)
    logs/             neo4j.log, debug.log, query.log, console.log
    run/neo4j.pid     PID of the running JVM
    run/gds-error     why the last start went without Graph Data Science (when it did)
    password          generated password, mode 0600

With ``Settings.gds`` on (the default) the open Graph Data Science library is fetched with
the server (:func:`~interestgraph.graphstore.fetch.fetch_gds`); its folder of jars is both
``server.directories.plugins`` (Neo4j finds procedures by scanning that folder) and on the
JVM classpath (GDS's extension factory is found by ServiceLoader there; without it the
procedures fail to start with ``ComponentInjectionException``), and ``gds.*`` procedures are
unrestricted. When the library cannot be fetched the server starts without it and the
reason, naming ``INTERESTGRAPH_GDS``, is logged and reported by ``status``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import neo4j
from neo4j import exceptions as nx

from interestgraph.config import Settings
from interestgraph.errors import PrerequisiteError, ServerFetchError, ServerStartError
from interestgraph.graphstore.credentials import ensure_password, read_password
from interestgraph.graphstore.fetch import (
    GdsDistribution,
    ServerDistribution,
    check_java,
    fetch_gds,
    fetch_server,
)

__all__ = ["LocalServer", "ServerStatus"]

log = logging.getLogger(__name__)

_MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_CLASS = "org.neo4j.cli.AdminTool"
# The JVM flags Neo4j's own launcher applies by default (minus AlwaysPreTouch, which makes
# a small machine slow to start).
_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
]


@dataclass(frozen=True)
class ServerStatus:
    """What ``interestgraph neo4j status`` reports."""

    running: bool
    pid: int | None
    version: str
    bolt_uri: str
    browser_url: str | None
    home: str
    password_file: str
    managed: bool = True
    gds: str | None = None
    gds_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON / table output."""
        return asdict(self)


class LocalServer:
    """Fetch, configure, start, query and stop the project-managed Neo4j server.

    Args:
        settings: Validated settings; uses ``home``, ``cache_dir``, ports, memory, version.

    Example:
        >>> server = LocalServer(Settings.from_env())  # doctest: +SKIP
        >>> server.start().bolt_uri
        'bolt://127.0.0.1:7687'
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.home).resolve() / "neo4j"
        self.conf_dir = self.root / "conf"
        self.data_dir = self.root / "data"
        self.logs_dir = self.root / "logs"
        self.run_dir = self.root / "run"
        self.pid_file = self.run_dir / "neo4j.pid"

    # -- public ----------------------------------------------------------------------------
    def status(self, *, probe: bool = False) -> ServerStatus:
        """Report whether the server runs, its PID and addresses.

        Args:
            probe: Also ask the running server for ``gds.version()`` (one loopback query);
                without it the call does no network I/O and ``gds`` is None.
        """
        pid = self._running_pid()
        dist = self._cached_distribution()
        browser = f"http://127.0.0.1:{self.settings.http_port}/browser/"
        error_file = self.run_dir / "gds-error"
        return ServerStatus(
            gds=self._probe_gds() if probe and pid is not None else None,
            gds_error=error_file.read_text().strip() if error_file.exists() else None,
            running=pid is not None,
            pid=pid,
            version=self.settings.neo4j_version,
            bolt_uri=self.settings.local_uri,
            browser_url=browser if dist is not None and dist.browser else None,
            home=str(self.root),
            password_file=str(self.root / "password"),
        )

    def start(self, *, timeout: float | None = None) -> ServerStatus:
        """Start the server (fetching it on first use) and wait until Bolt answers a query.

        Starting a running server is a no-op that returns its status.

        Raises:
            PrerequisiteError: Java 17+ missing, or Maven missing on first use.
            ServerFetchError: Maven could not supply the server.
            ServerStartError: A port is taken, or the JVM exited / did not answer in time.
        """
        if self._running_pid() is not None:
            return self.status(probe=True)
        java, _ = check_java()
        dist = fetch_server(self.settings.neo4j_version, self.settings.cache_dir)
        self._check_ports()
        for d in (self.conf_dir, self.data_dir, self.logs_dir, self.run_dir, self.root / "import"):
            d.mkdir(parents=True, exist_ok=True)
        gds = self._gds_distribution(dist)
        self._write_conf(gds)
        classpath = f"{dist.lib_dir}/*" + (f"{os.pathsep}{gds.plugins_dir}/*" if gds else "")
        password = self._ensure_initial_password(java, dist)
        began = time.perf_counter()
        console = open(self.logs_dir / "console.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(
                [
                    java,
                    f"-Xms{self.settings.heap}",
                    f"-Xmx{self.settings.heap}",
                    *_JVM_FLAGS,
                    "-cp",
                    classpath,
                    _MAIN_CLASS,
                    f"--home-dir={self.root}",
                    f"--config-dir={self.conf_dir}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env={**os.environ, "NEO4J_HOME": str(self.root), "NEO4J_CONF": str(self.conf_dir)},
                start_new_session=True,  # survives the CLI process; stopped via the PID file
            )
        finally:
            console.close()
        self.pid_file.write_text(f"{proc.pid}\n")
        self._wait_ready(proc, password, timeout or self.settings.start_timeout)
        log.info("Neo4j %s up in %.1fs", self.settings.neo4j_version, time.perf_counter() - began)
        return self.status(probe=True)

    def stop(self, *, timeout: float = 90.0) -> bool:
        """Stop the server cleanly (SIGTERM, then SIGKILL after ``timeout`` seconds).

        Returns:
            True if a server was running.
        """
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not _wait_exit(pid, timeout):
            log.warning("Neo4j (pid %d) did not stop in %.0fs; killing it", pid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_exit(pid, 30.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def database_exists(self) -> bool:
        """True when the default database has store files (a first start creates them)."""
        db = self.settings.neo4j_database or "neo4j"
        return (self.data_dir / "databases" / db).exists()

    def import_full(
        self,
        nodes: list[tuple[str, list[Path]]],
        relationships: list[tuple[str, list[Path]]],
        *,
        multiline: list[Path] | None = None,
        heap: str = "1g",
        off_heap: str = "4g",
    ) -> str:
        """Run ``neo4j-admin database import full`` into the default database.

        The server must be stopped (the caller stops and restarts it). ``nodes`` and
        ``relationships`` are ``(label or type, [header file, data files…])``;
        ``multiline`` names the data files whose values contain line breaks. On failure the
        half-built database is deleted (the next start creates an empty one), so nothing is
        left half-written.

        Returns:
            The importer's summary (its last output lines).

        Raises:
            ServerStartError: The server is running, or the importer failed (its output tail
                is in the message).
        """
        if self._running_pid() is not None:
            raise ServerStartError("stop the local server before a bulk import")
        java, _ = check_java()
        dist = fetch_server(self.settings.neo4j_version, self.settings.cache_dir)
        for d in (self.conf_dir, self.data_dir, self.logs_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._write_conf(None)
        db = self.settings.neo4j_database or "neo4j"
        args = [
            java,
            f"-Xmx{heap}",
            "-cp",
            f"{dist.lib_dir}/*",
            _ADMIN_CLASS,
            "database",
            "import",
            "full",
            db,
            "--overwrite-destination=true",
            "--bad-tolerance=0",
            "--id-type=string",
            f"--max-off-heap-memory={off_heap}",
            f"--report-file={self.logs_dir / 'import.report'}",
        ]
        args += [f"--nodes={lbl}={','.join(map(str, files))}" for lbl, files in nodes]
        args += [f"--relationships={t}={','.join(map(str, files))}" for t, files in relationships]
        if multiline:
            args += ["--multiline-fields-format=v2",
                     f"--multiline-fields={','.join(map(str, multiline))}"]  # fmt: skip
        env = {**os.environ, "NEO4J_HOME": str(self.root), "NEO4J_CONF": str(self.conf_dir)}
        log_path = self.logs_dir / "import.log"
        with open(log_path, "wb") as out:
            proc = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        tail = log_path.read_text(errors="replace").strip().splitlines()[-12:]
        if proc.returncode != 0:
            for part in ("databases", "transactions"):
                shutil.rmtree(self.data_dir / part / db, ignore_errors=True)
            raise ServerStartError(
                f"neo4j-admin database import failed (exit {proc.returncode}); the partial "
                f"database was removed. Output ({log_path}):\n" + "\n".join(tail)
            )
        return "\n".join(tail)

    def kill(self) -> bool:
        """SIGKILL the server (crash simulation for fault tests). True if one was running."""
        pid = self._running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        _wait_exit(pid, 30.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- internals -------------------------------------------------------------------------
    def _gds_distribution(self, dist: ServerDistribution) -> GdsDistribution | None:
        """The GDS jars to wire in, or None (off, or not fetchable: recorded in run/)."""
        error_file = self.run_dir / "gds-error"
        error_file.unlink(missing_ok=True)
        if not self.settings.gds:
            return None
        try:
            return fetch_gds(self.settings.gds_version, dist, self.settings.cache_dir)
        except (ServerFetchError, PrerequisiteError) as e:
            reason = (
                f"Graph Data Science {self.settings.gds_version} could not be fetched, so the "
                f"server starts without it (gds.* procedures are missing). Fix the cause below "
                f"and restart, or set INTERESTGRAPH_GDS=off to not ask for it: {e}"
            )
            log.warning("%s", reason)
            error_file.write_text(reason + "\n")
            return None

    def _probe_gds(self) -> str | None:
        """``gds.version()`` of the running server, None when GDS is not installed."""
        password = read_password(self.settings.home)
        if password is None:
            return None
        try:
            with neo4j.GraphDatabase.driver(self.settings.local_uri, auth=("neo4j", password)) as d:
                records, _, _ = d.execute_query(
                    "RETURN gds.version() AS v", database_=self.settings.neo4j_database
                )
                return str(records[0]["v"])
        except nx.ClientError:  # Unknown function: GDS is not installed
            return None
        except (nx.ServiceUnavailable, nx.SessionExpired, nx.AuthError, OSError):
            return None

    def _cached_distribution(self) -> ServerDistribution | None:
        try:
            return fetch_server(
                self.settings.neo4j_version, self.settings.cache_dir, offline_only=True
            )
        except Exception:
            return None

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_our_server(pid, self.root) else None

    def _check_ports(self) -> None:
        s = self.settings
        for name, port, var in (
            ("Bolt", s.bolt_port, "INTERESTGRAPH_BOLT_PORT"),
            ("HTTP", s.http_port, "INTERESTGRAPH_HTTP_PORT"),
        ):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError as e:
                    raise ServerStartError(
                        f"{name} port {port} on 127.0.0.1 is already in use by another process; "
                        f"stop that process or set {var} to a free port."
                    ) from e

    def _write_conf(self, gds: GdsDistribution | None) -> None:
        s = self.settings
        lines = [
            "# Generated by interestgraph on every `interestgraph neo4j start`; edits are lost.",
            "# Change ports and memory with INTERESTGRAPH_* environment variables instead.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{s.bolt_port}",
            f"server.bolt.advertised_address=127.0.0.1:{s.bolt_port}",
            "server.bolt.enabled=true",
            f"server.http.listen_address=127.0.0.1:{s.http_port}",
            f"server.http.advertised_address=127.0.0.1:{s.http_port}",
            "server.http.enabled=true",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.directories.data={self.data_dir}",
            f"server.directories.logs={self.logs_dir}",
            f"server.directories.run={self.run_dir}",
            f"server.directories.import={self.root / 'import'}",
            f"server.memory.heap.initial_size={s.heap}",
            f"server.memory.heap.max_size={s.heap}",
            f"server.memory.pagecache.size={s.pagecache}",
            # Keep the transaction log small on a laptop-sized disk.
            "db.tx_log.rotation.retention_policy=2 files",
            "db.logs.query.enabled=INFO",
            "db.logs.query.threshold=1s",
            "dbms.usage_report.enabled=false",
            # Bolt waits 5 s + 5 s for idle connections at shutdown; with the databases
            # already checkpointed and closed by then, 1 s each is plenty on loopback.
            "internal.server.bolt.connection_shutdown_wait_time=1s",
            "internal.server.bolt.thread_pool_shutdown_wait_time=1s",
        ]
        if gds is not None:
            lines += [
                f"# Graph Data Science {gds.version} (INTERESTGRAPH_GDS=off leaves it out).",
                f"server.directories.plugins={gds.plugins_dir}",
                "dbms.security.procedures.unrestricted=gds.*",
            ]
        (self.conf_dir / "neo4j.conf").write_text("\n".join(lines) + "\n")

    def _ensure_initial_password(self, java: str, dist: ServerDistribution) -> str:
        initialised = (self.data_dir / "databases" / "system").exists()
        if initialised:
            password = read_password(self.settings.home)
            if password is None:
                raise ServerStartError(
                    f"the data in {self.data_dir} was set up with a password that is no longer "
                    f"stored in {self.root / 'password'}; restore that file, or delete "
                    f"{self.data_dir} to start afresh (this deletes the graph)."
                )
            return password
        password = ensure_password(self.settings.home)
        # neo4j-admin takes the password as an argument (visible to `ps` for about a second,
        # on a loopback-only server before it ever started); nothing else sees it.
        proc = _set_initial_password(java, dist, self.root, self.conf_dir, password)
        if proc.returncode != 0:
            raise ServerStartError(
                "neo4j-admin dbms set-initial-password failed: "
                + (proc.stdout + proc.stderr).strip()[-2000:].replace(password, "***")
            )
        return password

    def _wait_ready(self, proc: subprocess.Popen[bytes], password: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        uri = self.settings.local_uri
        last: Exception | None = None
        with neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
            while time.monotonic() < deadline:
                code = proc.poll()
                if code is not None:
                    self.pid_file.unlink(missing_ok=True)
                    raise ServerStartError(
                        f"Neo4j exited with code {code} while starting. Last log lines "
                        f"({self.logs_dir}):\n{self._log_tail()}"
                    )
                try:
                    with driver.session(database=self.settings.neo4j_database) as session:
                        session.run("RETURN 1").consume()
                    return
                except (nx.ServiceUnavailable, nx.SessionExpired, nx.TransientError, OSError) as e:
                    last = e
                except nx.DatabaseUnavailable as e:  # pragma: no cover - timing dependent
                    last = e
                time.sleep(0.5)
        self.stop(timeout=30)
        raise ServerStartError(
            f"Neo4j did not answer on {uri} within {timeout:.0f}s (last error: {last}); it was "
            f"stopped. Raise the start timeout or check {self.logs_dir}:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 20) -> str:
        out = []
        for name in ("neo4j.log", "console.log"):
            path = self.logs_dir / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(text))
        return "\n".join(out) or "(no logs written)"


def _set_initial_password(
    java: str, dist: ServerDistribution, root: Path, conf: Path, password: str
) -> subprocess.CompletedProcess[str]:
    """Run ``neo4j-admin dbms set-initial-password`` (only valid before the first start)."""
    return subprocess.run(
        [
            java,
            "-cp",
            f"{dist.lib_dir}/*",
            _ADMIN_CLASS,
            "dbms",
            "set-initial-password",
            "--",
            password,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NEO4J_HOME": str(root), "NEO4J_CONF": str(conf)},
    )


def _is_our_server(pid: int, root: Path) -> bool:
    """True if ``pid`` is alive and is a Neo4j JVM launched for this home."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # not Linux: trust the PID file
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # zombie: exited, not yet reaped
        _reap(pid)
        return False
    return _MAIN_CLASS.encode() in args and f"--home-dir={root}".encode() in args


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)  # our own child turns into a zombie until reaped
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        with contextlib.suppress(OSError):
            if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                _reap(pid)
        time.sleep(0.2)
    return False
